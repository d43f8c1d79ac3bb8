import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import engineBoundary from './eslint-rules/engine-boundary.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'release/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { chatp2p: { rules: { 'engine-boundary': engineBoundary } } },
    rules: {
      'chatp2p/engine-boundary': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Control characters in regexes are how we validate untrusted network bytes.
      'no-control-regex': 'off',
    },
  },
  {
    // Electron emits `ready` only once the main module has settled: an await at its top level that
    // waits for anything needing `ready` never ends, and the app never opens (DEVELOPERS.md). The
    // same holds for every module main imports, the engine's too: one whose await never settles, or
    // rejects, keeps the app from starting. The terminal client and the rendezvous server are
    // processes of their own.
    files: ['src-main/**'],
    ignores: ['src-main/cli/main.ts', 'src-main/rendezvous-server/main.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'AwaitExpression:not(:function AwaitExpression)', message: 'No top-level await in what Electron main imports: start from a function and .catch() it.' },
        { selector: 'ForOfStatement[await=true]:not(:function ForOfStatement)', message: 'No top-level await in what Electron main imports: start from a function and .catch() it.' },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
