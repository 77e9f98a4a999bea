// Lint configuration: typescript-eslint's recommended rules on all TypeScript, and every
// imported package declared by the workspace that imports it (import-x/no-extraneous-dependencies
// against the nearest package.json: packages/<name>/, actions/<name>/, or the root for test/,
// scripts/ and bench/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/**
 * Imports must be declared where they are made. Symlinks are not followed, so a workspace
 * package (node_modules/@adci/x -> packages/x) counts as a package to declare, as it is for npm.
 * Tests, test helpers, scripts and benchmarks may use devDependencies; engine and adapter
 * sources only `dependencies`. Exported for scripts/lint-config.test.ts.
 */
export const dependencyDeclarations = {
  name: 'adci/dependency-declarations',
  files: ['**/*.ts', '**/*.js'],
  plugins: { 'import-x': importX },
  settings: { 'import-x/resolver-next': [createNodeResolver({ symlinks: false })] },
  rules: {
    'import-x/no-extraneous-dependencies': [
      'error',
      {
        devDependencies: ['**/*.test.ts', 'test/**', 'scripts/**', 'bench/**', '*.config.js'],
        optionalDependencies: false,
        peerDependencies: false,
        includeTypes: true,
      },
    ],
  },
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tmp/**',
      'test/cluster/go/**',
      '**/fixtures/**',
      'bench/.data/**',
      '**/.venv/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  dependencyDeclarations,
);
