import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.tools/**',
      'dist/**',
      'renderer/dist/**',
      'test/fixtures/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
      },
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron', 'react', 'react-dom'], patterns: ['**/main/**', '**/renderer/**'] },
      ],
      // One error-logging shape: log the Error itself as `err` (pino keeps its type, message and stack).
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "Property[key.name='err'] > :matches(CallExpression[callee.name='String'], MemberExpression[property.name='message'], ConditionalExpression, TSAsExpression)",
          message: 'log the error itself: { err } (its message and stack are kept), not a string made of it',
        },
      ],
    },
  },
);
