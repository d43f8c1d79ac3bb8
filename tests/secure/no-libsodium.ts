// Preloaded by cipher.test.ts: `libsodium-wrappers` cannot be found, as if the package or its
// WebAssembly were missing from a packaged app.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'libsodium-wrappers') throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return nextResolve(specifier, context);
  },
});
