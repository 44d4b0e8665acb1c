/**
 * The import rules of the target architecture (issue 13; /work/notes/architecture.md, README "Architecture").
 * Data flows one way through the stage folders below: a file may import its own stage, an earlier stage and
 * the leaf `contracts`, never a later one. `outputs` holds one module per output file (type, validating reader). `src/index.ts` (the public API) may import anything.
 * Run: `npm run check:deps`.
 */

/** The stage folders under src/, in pipeline order. */
const STAGES = ['contracts', 'model', 'tap', 'images', 'run', 'analyze', 'outputs', 'store', 'report', 'pipelines', 'cli'];

/** A regex for the files of one stage. */
const stagePath = (stage) => `^src/${stage}/`;

const anyOf = (stages) => stages.map(stagePath).join('|');

/** Upward imports named in the issue; they get their own rule (and message) and are left out of the generic one. */
const NAMED = [
  { name: 'store-not-analyze-or-report', from: 'store', to: ['analyze', 'report'], comment: 'store/ holds all SQL and imports no analysis or rendering: analyze → store → report.' },
  { name: 'analyze-not-store-or-report', from: 'analyze', to: ['store', 'report'], comment: 'analyze/ is pure (arrays and rows in, summaries out): no SQL, no fs, no report.' },
  { name: 'tap-not-run', from: 'tap', to: ['run'], comment: 'tap/ rewrites graphs; running them is run/’s job.' },
];

const namedRules = NAMED.map(({ name, from, to, comment }) => ({
  name,
  comment,
  severity: 'error',
  from: { path: stagePath(from) },
  to: { path: anyOf(to) },
}));

const stageRules = STAGES.slice(0, -1).map((stage, i) => {
  const skip = NAMED.filter((n) => n.from === stage).flatMap((n) => n.to);
  const later = STAGES.slice(i + 1).filter((s) => !skip.includes(s));
  return {
    name: `no-upward-from-${stage}`,
    comment: `${stage} may import only ${['contracts', ...STAGES.slice(1, i + 1)].filter((s, k, a) => a.indexOf(s) === k).join(', ')} (earlier stages, its own, contracts).`,
    severity: 'error',
    from: { path: stagePath(stage) },
    to: { path: anyOf(later) },
  };
});

/** Top-level files of src/ that belong to no stage (index.ts is the only one meant to stay). */
const UNPLACED = `^src/(?!index\\.ts$)[^/]+$`;
/** Folders under src/ that are not stages. */
const STRAY_FOLDER = `^src/(?!(${STAGES.join('|')})/)[^/]+/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make the flow two-way; break them by moving the shared part to an earlier stage or contracts/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...namedRules,
    ...stageRules,
    {
      name: 'no-import-of-index',
      comment: 'src/index.ts is the public API; nothing inside src/ imports it (that would be a cycle through every stage).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-unplaced-files',
      comment: 'Every module lives in a stage folder; only src/index.ts stays at the top.',
      severity: 'error',
      from: { path: `${UNPLACED}|${STRAY_FOLDER}` },
      to: {},
    },
    {
      name: 'no-import-of-unplaced',
      comment: 'Every module lives in a stage folder; only src/index.ts stays at the top.',
      severity: 'error',
      from: {},
      to: { path: `${UNPLACED}|${STRAY_FOLDER}` },
    },
    {
      name: 'no-orphans',
      comment: 'A file nothing imports and that imports nothing is dead or misplaced (workers are loaded by URL, so they are excluded).',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '-worker\\.ts$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'Shipped code (src/) must not need a devDependency at run time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'], pathNot: ['node_modules/@types/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: an upward `import type` couples the stages just the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
