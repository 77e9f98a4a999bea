// Lint configuration: typescript-eslint's type-checked recommended rules on all TypeScript (types
// from tsconfig.json through the project service; plain JavaScript files are linted without
// types), and every
// imported package declared by the workspace that imports it (import-x/no-extraneous-dependencies
// against the nearest package.json: packages/<name>/, actions/<name>/, or the root for test/,
// scripts/ and bench/), and the tests under test/ importing the engines only through their public
// entry points.
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

/**
 * The tests under test/ (end-to-end tests, the cluster and their helpers) reach the engines as
 * their users do: through the packages' public entry points (`@adci/probe`, `@adci/common/basics`,
 * the `exports` of each package.json) or the built bundles, never a module of packages/x/src
 * or actions/x/src by path. Exported for scripts/lint-config.test.ts.
 */
export const publicEntryPoints = {
  name: 'adci/public-entry-points',
  files: ['test/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: '(^|/)(packages|actions)/[^/]+/src(/|$)',
            message: "Import the package's public entry point (@adci/<name>) or the built bundle, not its sources.",
          },
          {
            regex: '^@adci/[^/]+/src(/|$)',
            message: "Import the package's public entry point (@adci/<name>), not a path inside it.",
          },
        ],
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
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits and reports;
      // every other promise must be awaited, returned, or voided on purpose.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Every benchmark exports `async run()` for bench/run.ts to await; some measure synchronously.
  { files: ['bench/**/*.ts'], rules: { '@typescript-eslint/require-await': 'off' } },
  // eslint.config.js and other JavaScript files are not in tsconfig.json: no type information.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  dependencyDeclarations,
  publicEntryPoints,
);
