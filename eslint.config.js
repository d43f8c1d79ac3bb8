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
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
