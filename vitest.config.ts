import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    reporters: ['default', './tests/summary-reporter.ts'],
    // Suites start real servers on 127.0.0.1; give slow CI machines room before calling a hang.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    execArgv: ['--disable-warning=ExperimentalWarning'],
  },
});
