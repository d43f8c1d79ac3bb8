// Electron's Node is built on BoringSSL, whose node:crypto has no ChaCha20-Poly1305: it is not in
// getCiphers(), and createCipheriv/createDecipheriv answer "Unknown cipher" (electron/electron#24024).
// The stand-in keeps that rule for the app it runs, so the desktop tests take the path the real app
// takes (libsodium's ChaCha20-Poly1305), not OpenSSL's.
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

const MISSING = 'chacha20-poly1305';

function unknownCipher(): Error {
  return Object.assign(new TypeError('Unknown cipher'), { code: 'ERR_CRYPTO_UNKNOWN_CIPHER' });
}

/** `create` as BoringSSL's build has it: the same, but for the cipher it lacks. */
function without<F extends (algorithm: string, ...rest: never[]) => unknown>(create: F): F {
  return ((algorithm: string, ...rest: never[]) => {
    if (algorithm.toLowerCase() === MISSING) throw unknownCipher();
    return create(algorithm, ...rest);
  }) as F;
}

const { getCiphers } = crypto;
crypto.getCiphers = () => getCiphers().filter((name) => name !== MISSING);
crypto.createCipheriv = without(crypto.createCipheriv);
crypto.createDecipheriv = without(crypto.createDecipheriv);
// `import { createCipheriv } from 'node:crypto'` in the app sees these too.
syncBuiltinESMExports();
