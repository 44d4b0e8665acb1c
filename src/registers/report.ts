import type { ModelSpec } from '../model/load.js';
import type { FindResult } from './find.js';
export function writeNeuronsReport(path: string, spec: ModelSpec, r: FindResult): string | undefined {
  void path; void spec; void r;
  return undefined;
}
