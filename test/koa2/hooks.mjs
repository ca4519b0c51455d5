// Module hooks for the Koa 2 run: `koa` and `koa/<path>` become `koa2` and `koa2/<path>`.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'koa' || specifier.startsWith('koa/')) {
    return nextResolve(`koa2${specifier.slice(3)}`, context);
  }
  return nextResolve(specifier, context);
}
