/** The library API: the same functions the CLI calls. */
export { scan, type ScanOptions, type ScanResult, type ScanProgress } from './scan.js';
export { demo } from './demo.js';
export { loadModel, type ModelSpec, type LoadOptions } from './model/load.js';
export { inspectModel, type ModelInspection } from './model/inspect.js';
export { tokenLayout, tokenRole, patchPosition, type TokenLayout, type TokenRole } from './model/layout.js';
export { applyTap, findHooks, type TapPlan, type HookTable } from './tap/plan.js';
export { openTapped, type TappedModel } from './run/tapped.js';
export { preprocessImage } from './images/preprocess.js';
export { walkImages } from './images/walk.js';
export { parseShard, shardFromEnv, type Shard } from './images/shard.js';
export { DEFAULT_CRITERIA, type ScanCriteria } from './analyze/criteria.js';
export type { ScanJson } from './report/scan-json.js';
export * from './hooks.js';
export { MassivitError } from './errors.js';
