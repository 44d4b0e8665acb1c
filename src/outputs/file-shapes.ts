/**
 * The documented shape of views/feature-token.json (validate.ts; scan.json's is in scan-json-read.ts,
 * intervene.json's in intervene-json.ts).
 */
import type { FeatureTokenView } from '../analyze/feature-token.js';
import { MassivitError } from '../contracts/errors.js';
import { checkFile, count, finite, flag, list, measure, oneOf, record, text, type Check } from './validate.js';

const m = measure as Check<number>;

const viewShape = record<FeatureTokenView>({
  version: count,
  layer: count,
  reason: oneOf('massive', 'near-miss', 'last layer', 'chosen'),
  image: text,
  tokens: count,
  dims: count,
  median: m,
  tokenMax: list(m),
  tokenArgmax: list(count),
  topDims: list(record<FeatureTokenView['topDims'][number]>({ dim: count, flagged: flag, values: list(m) })),
  grid: record<FeatureTokenView['grid']>({ rowStarts: list(count), dimBin: count, cols: count, log10Min: finite, log10Max: finite, data: text }),
});

/** views/feature-token.json, checked field by field and for sizes that agree with each other. */
export function checkView(file: string, json: unknown): FeatureTokenView {
  const view = checkFile(file, viewShape, json, 'Re-run the scan (or `massivit report --model`) to capture the view again');
  const bad = (what: string) => new MassivitError('BAD_OUTPUT', `${file}: ${what}`);
  const { tokens, dims, grid } = view;
  if (view.tokenMax.length !== tokens || view.tokenArgmax.length !== tokens) throw bad(`tokenMax and tokenArgmax must hold one entry per token (${tokens})`);
  view.tokenArgmax.forEach((d, i) => {
    if (d >= dims) throw bad(`tokenArgmax[${i}] must be below dims (${dims}), found ${d}`);
  });
  view.topDims.forEach((d, i) => {
    if (d.dim >= dims) throw bad(`topDims[${i}].dim must be below dims (${dims}), found ${d.dim}`);
    if (d.values.length !== tokens) throw bad(`topDims[${i}].values must hold one value per token (${tokens})`);
  });
  if (grid.dimBin < 1 || grid.cols !== Math.ceil(dims / grid.dimBin)) throw bad('grid.cols must be ⌈dims / grid.dimBin⌉');
  grid.rowStarts.forEach((t, i) => {
    if (t >= tokens || (i > 0 && t <= grid.rowStarts[i - 1])) throw bad(`grid.rowStarts[${i}] must rise and stay below tokens (${tokens}), found ${t}`);
  });
  if (Buffer.from(grid.data, 'base64').length !== grid.rowStarts.length * grid.cols) throw bad('grid.data must hold one byte per grid cell');
  return view;
}
