// npm run lint: prettier --check, then this (typescript-eslint's recommended rules on the whole tree).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-demo/',
      'build-node/',
      'coverage/',
      'bench-results/',
      'tests/e2e/artifacts/',
      '.gpu-bundle/',
      '.gpu-bundle.ci-run/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // unused parameters are allowed when their name says so (`_kwargs`: an interface's signature)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
