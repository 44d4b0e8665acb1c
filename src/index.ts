/**
 * The library API: the functions the CLI chains, in pipeline order
 * (model → tap → images → run → analyze → store → report, with the pipelines that chain them).
 */
export * from './contracts/hooks.js';
export { MassivitError, type ErrorCode } from './contracts/errors.js';
export { DEFAULT_CRITERIA, type ScanCriteria } from './contracts/criteria.js';
// model: a folder or .onnx → ModelSpec (and the hub)
export { loadModel, type ModelSpec, type LoadOptions } from './model/load.js';
export { tokenLayout, tokenRole, patchPosition, type TokenLayout, type TokenRole } from './model/layout.js';
export type { HookTable } from './model/hook-table.js';
export { pullModel, type PullOptions, type PullResult } from './model/hub/pull.js';
export { CATALOG, type CatalogEntry } from './model/hub/catalog.js';
// tap: the one graph rewrite
export { applyTap, type TapPlan, type Reduce, type TappedGraph } from './tap/plan.js';
export { cellsAt, type Edit, type CellsEdit, type EditInputs, type EditValues } from './tap/edits.js';
export { attentionBiasAt, type AttentionBiasEdit } from './tap/edits.js';
// images
export { walkImages, type ImageEntry, type WalkResult } from './images/walk.js';
export { preprocessImage } from './images/preprocess.js';
export { parseShard, shardFromEnv, type Shard } from './images/shard.js';
// run: the one runner
export { openRunner, type Runner, type RunRequest, type Outputs } from './run/runner.js';
// outputs: the documented files
export type { ScanJson } from './outputs/scan-json.js';
export { readScanJson } from './outputs/scan-json-read.js';
// pipelines (and the report stage they end in)
export { scan, type ScanOptions, type ScanResult, type ScanProgress } from './pipelines/scan.js';
export { reportAfterScan, writeScanReport, writeComparison, type ReportOptions, type ReportResult, type CompareOptions, type CompareResult } from './pipelines/report.js';
export { merge, type MergeOptions, type MergeResult } from './pipelines/merge.js';
export { intervene, parseCells, type InterveneOptions, type InterveneJson, type InterveneResult, type InterventionMode } from './pipelines/intervene.js';
export { type InterventionTarget } from './pipelines/intervene.js';
export { bias, type BiasOptions } from './pipelines/bias.js';
export { readBiasJson, type BiasJson, type BiasResult, type BiasVariant } from './outputs/bias-json.js';
export { imageMap, type MapOptions, type ImageMap } from './pipelines/map.js';
export { inspectModel, type ModelInspection } from './pipelines/inspect.js';
export { demo } from './pipelines/demo.js';
export { registersFind, registersAdd, type RegistersFindOptions, type RegistersAddOptions, type RegistersAddResult } from './pipelines/registers.js';
export { readNeuronsFile, type NeuronsFile, type RegisterNeuron } from './outputs/register-neurons.js';
