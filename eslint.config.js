// Lint runs inside `npm test`. Type-aware rules stay off to keep it fast; tsc covers types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // One constant-time compare helper (src/protocol/compare.ts) for every secret.
      'no-restricted-syntax': ['error',
        { selector: "ImportSpecifier[imported.name='timingSafeEqual']", message: 'Compare secrets only through src/protocol/compare.ts' },
        { selector: "MemberExpression[property.name='timingSafeEqual']", message: 'Compare secrets only through src/protocol/compare.ts' }],
    },
  },
  { files: ['src/protocol/compare.ts'], rules: { 'no-restricted-syntax': 'off' } },
  {
    // protocol/ is pure: no I/O, no clock, no RNG (time and randomness are parameters).
    files: ['src/protocol/**/*.ts'],
    ignores: ['src/protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['fs', 'node:fs', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'child_process', 'node:child_process', 'tls', 'node:tls', 'fs/promises', 'node:fs/promises'], patterns: ['../store/*', '../core/*', '../server/*', '../cli/*', '../config/*'] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'protocol/ takes time as a parameter' },
        { object: 'Math', property: 'random', message: 'protocol/ takes randomness as a parameter' },
        { object: 'crypto', property: 'randomBytes', message: 'protocol/ takes randomness as a parameter' }],
    },
  },
  {
    // channels/ are delivery adapters (Web Push, later SMS/voice): below core/, beside store/.
    files: ['src/channels/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../core/*', '../store/*', '../server/*', '../cli/*', '../client/*', 'kysely', 'better-sqlite3', 'pg', 'fastify'] }] },
  },
  {
    // The Tandem Authenticator runs in browsers: no node modules or globals, and untrusted text
    // reaches the DOM only as text (ARCHITECTURE §5).
    files: ['web/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process'], message: 'web/app runs in a browser' }, { group: ['**/src/*/**', '!**/src/protocol/approval.js', '!**/src/protocol/form.js'], message: 'web/app may import only the platform-neutral src/protocol/approval.ts and form.ts' }] }],
      'no-restricted-globals': ['error', 'Buffer', 'process', 'require'],
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[property.name=/^(innerHTML|outerHTML|insertAdjacentHTML|srcdoc)$/]", message: 'Build DOM with web/app/src/dom.ts (text nodes only)' },
        { selector: "CallExpression[callee.property.name=/^(write|writeln)$/][callee.object.name='document']", message: 'Build DOM with web/app/src/dom.ts (text nodes only)' },
        { selector: "CallExpression[callee.name='eval'], NewExpression[callee.name='Function']", message: 'No eval (CSP forbids it anyway)' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../server/*', '../cli/*', '**/server/*', '**/cli/*', 'kysely', 'better-sqlite3', 'pg', 'fastify'] }] },
  },
);
