import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.cache/**',
      'action/dist/**',
      'dist/**',
      'console/dist/**',
      'sdk/dist/**',
      'core/generated/**',
      'compiler/generated/**',
      'policy/generated/**',
      'provenance/generated/**',
      '*.cjs',
      '**/fixtures/**',
      'coverage/**',
      'sdk/python/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use a const object and its union type (erasable syntax).',
        },
      ],
    },
  },
  {
    // Only the surfaces read the environment (EXAMPLES.md: one place reads process.env).
    files: [
      'core/**',
      'compiler/**',
      'policy/**',
      'provenance/**',
      'engine/**',
      'runners/**',
      'sdk/**',
      'workspace/**',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration in a surface and pass it in.' },
      ],
    },
  },
);
