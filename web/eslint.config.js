import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'src/api/schema.d.ts', '.api-check.d.ts', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // User text is rendered only as text: never through innerHTML.
      'no-restricted-syntax': [
        'error',
        { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'Render user text as text.' },
        { selector: "MemberExpression[property.name='innerHTML']", message: 'Render user text as text.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'localStorage', message: 'No tokens or user data in web storage.' },
        { name: 'sessionStorage', message: 'No tokens or user data in web storage.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
