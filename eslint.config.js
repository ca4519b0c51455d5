// Lint rules that catch bugs and keep imports in one order; formatting belongs to Prettier.
// The TypeScript rules are type-aware: each file is linted with the types of the tsconfig.json
// nearest to it (tsconfig.json for src/test/bench/example, typings/**/tsconfig.json for typings/).
import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build-output/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // From the strict set: a deprecated call (Zod 4 keeps Zod 3's names as deprecated aliases) is
      // replaced by its successor before the alias is removed.
      '@typescript-eslint/no-deprecated': 'error',
      // The code reads a key of an index signature (`process.env['PORT']`, `ctx.query['id']`) with
      // brackets, as `noPropertyAccessFromIndexSignature` would: the key may be absent.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // A rejection caught as `unknown` is passed on as it came, not wrapped.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Plain JavaScript (this file, the Koa 2 loader hooks) is in no tsconfig, and the type-checked
    // fixture is excluded from tsconfig.json on purpose: it holds two deliberate type errors that
    // ajax-types.test.ts compiles and counts. Lint them without type information.
    files: ['**/*.js', '**/*.mjs', 'test/**/*.fixture.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests assert on chai chains (`expect(x).to.be.true`) and build deliberately bad input.
    files: ['test/**/*.ts', 'typings/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
    },
  },
  {
    // Tests read values their packages type as `any` and assert on them: supertest's parsed
    // `res.body`, koa-session's `ctx.session` keys, @koa/router's `ctx.params`, a page's JSON.
    // Typing each read would only restate the assertion that follows it.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Type-level tests declare values only to look at their types.
    files: ['typings/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
);
