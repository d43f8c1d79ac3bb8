// The chatp2p-secure identity key at rest in the desktop app: wrapped by Electron's safeStorage
// (Keychain on macOS, DPAPI on Windows, the Secret Service or KWallet on Linux). Where the OS has
// no keychain, Linux's safeStorage falls back to a fixed password ('basic_text'), which protects
// nothing: then the key stays a 0600 file, and Settings says so.
import type { SafeStorage } from 'electron';
import type { KeyProtection } from '../engine/secure/identity.ts';

export type KeychainStorage = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

export function keychainProtection(safeStorage: KeychainStorage, platform: NodeJS.Platform): KeyProtection | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return undefined;
  return {
    name: 'electron-safeStorage',
    // safeStorage encrypts strings: the secret travels as base64.
    encrypt: (secret) => safeStorage.encryptString(secret.toString('base64')),
    decrypt: (stored) => Buffer.from(safeStorage.decryptString(stored), 'base64'),
  };
}
