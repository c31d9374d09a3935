// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.troupe/**', 'coverage/**', 'bench/results/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Statecharts stay pure: no clocks or randomness (STYLE.md).
      'no-restricted-syntax': 'off',
    },
  },
  {
    files: ['statecharts/**/*.ts'],
    ignores: ['statecharts/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@nestjs/*', 'nats', 'mongodb', 'node:*', '@troupe/bus', '@troupe/persistence', '@troupe/actor-runtime', '@troupe/agent-kit'], message: 'statecharts import only xstate and @troupe/contracts' }] }],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'statecharts are pure: no clocks' },
        { object: 'Math', property: 'random', message: 'statecharts are pure: no randomness' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'statecharts are pure: no clocks' }],
    },
  },
  {
    files: ['tools/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
