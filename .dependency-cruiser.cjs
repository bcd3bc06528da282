/**
 * The layering of DESIGN.md, enforced. A folder may import only the folders listed for it,
 * only through their `index.ts`, and never in a cycle.
 */
const layers = {
  schemas: [],
  core: ['schemas'],
  compiler: ['core', 'schemas'],
  policy: ['core', 'schemas'],
  provenance: ['core', 'schemas'],
  sdk: ['core', 'schemas'],
  // The SIG contracts compiled, and the clients of SIG (docs/sig.md): beside the SDK.
  sig: ['core', 'schemas'],
  runners: ['core', 'schemas'],
  // tasks/sig.ingest and tasks/sig.export speak SIG through sig/'s clients.
  tasks: ['sdk', 'sig', 'core', 'schemas'],
  engine: ['core', 'compiler', 'policy', 'provenance', 'runners', 'schemas'],
  // Finding manifest files and compiling them with the built-in catalog: shared by cli/ and action/.
  workspace: ['core', 'compiler', 'tasks', 'schemas'],
  // The one composition root: configuration in, a wired engine out; everything below the surfaces.
  runtime: [
    'core',
    'compiler',
    'policy',
    'provenance',
    'runners',
    'engine',
    'workspace',
    'tasks',
    'sdk',
    'schemas',
  ],
  app: [
    'core',
    'compiler',
    'policy',
    'provenance',
    'runners',
    'engine',
    'schemas',
    'sdk',
    'tasks',
    // A pushed commit's repository tasks and catalog lock get the CLI's checks (docs/tasks.md).
    'workspace',
    'runtime',
  ],
  action: [
    'core',
    'compiler',
    'policy',
    'provenance',
    'runners',
    'engine',
    'schemas',
    'app',
    'workspace',
    'runtime',
  ],
  api: [
    'sig',
    'core',
    'compiler',
    'policy',
    'provenance',
    'runners',
    'engine',
    'schemas',
    'app',
    'runtime',
    'workspace',
  ],
  console: ['core', 'compiler', 'policy', 'provenance', 'runners', 'engine', 'schemas', 'api', 'runtime'],
  cli: [
    'sig',
    'runtime',
    'core',
    'compiler',
    'policy',
    'provenance',
    'runners',
    'engine',
    'schemas',
    'app',
    'api',
    'console',
    'sdk',
    'tasks',
    'workspace',
  ],
  bin: ['cli'],
};
const all = Object.keys(layers);

const layerRules = Object.entries(layers).map(([from, allowed]) => ({
  name: `layer-${from}`,
  comment: `${from}/ may import only: ${allowed.join(', ') || 'nothing'} (DESIGN.md layering)`,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: `^(${all.filter((l) => l !== from && !allowed.includes(l)).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-deep-imports',
      comment: 'Other folders import a top-level folder only through its index.ts',
      severity: 'error',
      from: { path: '^([^/]+)/' },
      to: {
        path: `^(${all.join('|')})/(?!index\\.ts$)(?!.*\\.json$)`,
        pathNot: ['^$1/'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|action/dist|sdk/dist|fixtures)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
