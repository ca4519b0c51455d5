/**
 * A plain object: prototype `Object.prototype` or `null` (an object literal, JSON, `Object.create(null)`).
 * Arrays, functions, class instances and built-ins are not. It looks at the prototype only, so a
 * large object costs no more than a small one.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
