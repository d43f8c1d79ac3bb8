// A profile's long-term X25519 identity key at rest: one small JSON file beside its history,
// created on first use with mode 0600. A host that can do better passes a KeyProtection: the
// desktop app wraps the key with Electron's safeStorage (the OS keychain), where the OS has one.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeyPair, keyPairFrom, type KeyPair } from './noise.ts';

/** How a host keeps the secret key encrypted at rest (Electron: safeStorage.encryptString/decryptString). */
export interface KeyProtection {
  /** What the file says protects the key, e.g. `electron-safeStorage`. */
  name: string;
  encrypt(secret: Buffer): Buffer;
  decrypt(stored: Buffer): Buffer;
}

export class IdentityKeyError extends Error {}

/** Where a profile keeps its identity key: beside its history file. */
export const identityKeyPath = (historyFile: string): string => join(dirname(historyFile), 'identity.key');

interface KeyFile {
  version: 1;
  /** `none`: the file's mode is the only protection; otherwise the KeyProtection's name. */
  protection: string;
  secret: string;
}

/**
 * The profile's identity key from `path`, created there if there is none. With `protection` a new
 * key is written encrypted; a key written without it is still read (and says so in `protected`).
 */
export function loadIdentityKey(path: string, protection?: KeyProtection): { key: KeyPair; protected: boolean } {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IdentityKeyError(`cannot read the identity key ${path}: ${(err as Error).message}`);
  }
  if (text === undefined) {
    const key = generateKeyPair();
    const secret = Buffer.from(key.secretKey);
    const file: KeyFile = { version: 1, protection: protection?.name ?? 'none', secret: (protection ? protection.encrypt(secret) : secret).toString('base64') };
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // `wx`: two processes starting at once cannot both create a key.
    writeFileSync(path, JSON.stringify(file) + '\n', { mode: 0o600, flag: 'wx' });
    return { key, protected: protection !== undefined };
  }
  // The mode given at creation is masked by the umask; the file is ours, so tighten it anyway.
  chmodSync(path, 0o600);
  let file: Partial<KeyFile>;
  try {
    file = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw new IdentityKeyError(`the identity key ${path} is not readable JSON`);
  }
  if (file.version !== 1 || typeof file.secret !== 'string' || typeof file.protection !== 'string') throw new IdentityKeyError(`the identity key ${path} is not one we wrote`);
  let secret: Buffer = Buffer.from(file.secret, 'base64');
  if (file.protection !== 'none') {
    if (protection?.name !== file.protection) throw new IdentityKeyError(`the identity key ${path} is protected by ${file.protection}, which this host cannot open`);
    secret = protection.decrypt(secret);
  }
  if (secret.length !== 32) throw new IdentityKeyError(`the identity key ${path} does not hold a 32-byte key`);
  return { key: keyPairFrom(new Uint8Array(secret)), protected: file.protection !== 'none' };
}
