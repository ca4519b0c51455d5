/** `true` only when A and B are the same type (not merely assignable). */
export type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// eslint-disable-next-line @typescript-eslint/no-empty-function -- the check is the type argument
export function assertType<T extends true>(_: T = true as T): void {}
