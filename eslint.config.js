// ESLint: type-aware checks for what the compiler lets through (promises nobody
// waits for, switches that forget a case) and the layer rules of the README's Development section
// (protocol <- core <- runtime <- transport | cluster | ops <- server (server.ts and server/) <- cli; protocol <- client).
// runtime/ holds the Node implementations of the core's ports (clock, secrets).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.artifacts/', '.scratch/', 'node_modules/', 'demo/'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test collects these itself and reports their failures.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      // An abort reason or a rejection passed on as it came is right as it is.
      // A binding named `process` hides Node's global in its scope: name what it holds (processId, ...);
      // a signature's parameter too, since its implementations copy the name.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            ':matches(:function > Identifier.params, :function > AssignmentPattern.params > Identifier.left, VariableDeclarator > Identifier.id, ObjectPattern > Property > Identifier.value, ArrayPattern > Identifier, TSParameterProperty > Identifier.parameter, CatchClause > Identifier.param, :matches(TSMethodSignature, TSFunctionType, TSDeclareFunction, TSEmptyBodyFunctionExpression, TSCallSignatureDeclaration, TSConstructSignatureDeclaration) > Identifier.params)[name="process"]',
          message: 'a binding named `process` shadows the Node global: name what it holds (e.g. processId)',
        },
      ],
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
    },
  },
  ...layerRules(),
);

/**
 * One `no-restricted-imports` entry per folder of src/ (a later entry for the same
 * files would replace an earlier one, not add to it, so each folder's entry lists
 * everything that folder may not import).
 */
function layerRules() {
  const anyPackage = { regex: '^(?![.])', message: 'this layer is pure: it imports no package and no node: module' };
  const ws = { regex: '^ws(/|$)', message: 'only src/transport/ imports ws' };
  const redis = { regex: '^(ioredis|redis)(/|$)', message: 'only src/cluster/ imports the Redis client' };
  const leaves = (allowed, message) => ({
    regex: allowed.length === 0 ? '^[.][.]/' : `^[.][.]/(?!(${allowed.join('|')})/)`,
    message,
  });
  const layers = [
    ['src/protocol/**', [leaves([], 'protocol/ imports nothing else of ours'), anyPackage]],
    ['src/core/**', [leaves(['protocol'], 'core/ imports only protocol/'), anyPackage]],
    ['src/client/**', [leaves(['protocol'], 'client/ imports only protocol/'), anyPackage]],
    ['src/runtime/**', [leaves(['protocol', 'core'], 'runtime/ imports only protocol/ and core/'), ws, redis]],
    [
      'src/transport/**',
      [leaves(['protocol', 'core', 'runtime'], 'transport/ imports only protocol/, core/ and runtime/'), redis],
    ],
    [
      'src/cluster/**',
      [leaves(['protocol', 'core', 'runtime'], 'cluster/ imports only protocol/, core/ and runtime/'), ws],
    ],
    [
      'src/ops/**',
      [leaves(['protocol', 'core', 'runtime'], 'ops/ imports only protocol/, core/ and runtime/'), ws, redis],
    ],
    ['src/*.ts', [{ regex: '^[.]/cli/', message: 'nothing imports cli/' }, ws, redis]],
    ['src/server/**', [{ regex: '^[.][.]/cli/', message: 'nothing imports cli/' }, ws, redis]],
    ['src/cli/**', [ws, redis]],
  ];
  return layers.map(([files, patterns]) => ({
    files: [files],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  }));
}
