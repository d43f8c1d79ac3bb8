import { defineConfig } from 'vitest/config';

const execArgv = ['--disable-warning=ExperimentalWarning'];

export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    // Suites start real servers on 127.0.0.1; give slow CI machines room before calling a hang.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], execArgv, provide: { nodeCrypto: 'openssl' } } },
      {
        // The sealed transfers again on node:crypto as Electron's BoringSSL builds it, without
        // ChaCha20-Poly1305 (tests/desktop/standin/boringssl.ts): the path the desktop app takes.
        extends: true,
        test: {
          name: 'boringssl',
          include: ['tests/secure/files.test.ts'],
          execArgv: [...execArgv, '--import', './tests/desktop/standin/boringssl.ts'],
          provide: { nodeCrypto: 'boringssl' },
        },
      },
    ],
  },
});
