// The identity key at rest: a 0600 file beside the profile's history, or wrapped by the host's
// key protection (the desktop app passes Electron's safeStorage).

import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdentityKeyError, loadIdentityKey, type KeyProtection } from '../../src-main/engine/secure/identity.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const keyPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatp2p-key-'));
  dirs.push(dir);
  return join(dir, 'profiles', 'alice@cic', 'identity.key');
};

// A stand-in for safeStorage: reversible, and visibly not the plain key.
const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
const fakeSafeStorage: KeyProtection = { name: 'electron-safeStorage', encrypt: xor, decrypt: xor };

describe('identity key file', () => {
  it('is created once with mode 0600 and gives the same key on every start', () => {
    const path = keyPath();
    const first = loadIdentityKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.protected).toBe(false);
    const again = loadIdentityKey(path);
    expect(Buffer.from(again.key.publicKey).equals(Buffer.from(first.key.publicKey))).toBe(true);
  });

  it('stores the key wrapped by the host protection, and refuses to open it without that protection', () => {
    const path = keyPath();
    const made = loadIdentityKey(path, fakeSafeStorage);
    expect(made.protected).toBe(true);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { protection: string; secret: string };
    expect(file.protection).toBe('electron-safeStorage');
    expect(Buffer.from(file.secret, 'base64').equals(Buffer.from(made.key.secretKey))).toBe(false);
    expect(Buffer.from(loadIdentityKey(path, fakeSafeStorage).key.publicKey).equals(Buffer.from(made.key.publicKey))).toBe(true);
    expect(() => loadIdentityKey(path)).toThrow(/protected by electron-safeStorage/);
  });

  it('refuses a file that is not ours, and tightens a loose mode', () => {
    const path = keyPath();
    loadIdentityKey(path);
    writeFileSync(path, '{"version":1,"protection":"none","secret":"AAAA"}');
    chmodSync(path, 0o644);
    expect(() => loadIdentityKey(path)).toThrow(IdentityKeyError);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileSync(path, 'not json');
    expect(() => loadIdentityKey(path)).toThrow(/not readable JSON/);
  });
});
