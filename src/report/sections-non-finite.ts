/**
 * NaN and ±Inf in the hidden states (scan.json `nonFinite`, analyze/non-finite.ts): a warning with the first
 * affected layer and a per-layer table, so a broken or overflowing model is never shown as merely quiet.
 */
import { esc, sortableTable } from './html.js';
import type { ScanJson } from '../outputs/scan-json.js';

/** One line for the headline and the comparison, or null when every value was finite. */
export function nonFiniteLine(scan: ScanJson): string | null {
  const n = scan.nonFinite;
  if (!n) return null;
  const span = n.firstLayer === n.lastLayer ? '' : `, through layer ${n.lastLayer}`;
  const cells = `${n.cells.nan.toLocaleString('en-US')} NaN, ${n.cells.posInf.toLocaleString('en-US')} +Inf, ${n.cells.negInf.toLocaleString('en-US')} −Inf`;
  return `Non-finite activations (NaN or ±Inf) first at layer ${n.firstLayer}${span}, in ${n.images} of ${scan.images.scanned} images: ${cells} cells in all.`;
}

/** The warning and table of the single-scan report ('' when every value was finite). */
export function nonFiniteSection(scan: ScanJson): string {
  const line = nonFiniteLine(scan);
  if (!line) return '';
  const cells = scan.model.sequenceLength * scan.model.hiddenSize;
  const rows = scan.layers
    .filter((l) => l.nonFinite)
    .map((l): [string, string | number][] => {
      const n = l.nonFinite!;
      const share = (n.nan + n.posInf + n.negInf) / (n.images * cells);
      return [
        [esc(l.layer), l.layer], [esc(n.images), n.images], [esc(n.nan), n.nan], [esc(n.posInf), n.posInf], [esc(n.negInf), n.negInf],
        [esc(`${(100 * share).toPrecision(3)}%`), share],
      ];
    });
  return [
    `<h2 id="non-finite">Non-finite activations</h2>`,
    `<p class="warn">${esc(line)} The model's weights hold NaN or ±Inf, or it overflows (e.g. in fp16). ` +
      'The statistics of an affected image and layer (top-k, median, norms, the feature × token view) count those cells as 0, and images with any are left out of the attention summary.</p>',
    sortableTable('non-finite-table', ['layer', 'images', 'NaN', '+Inf', '−Inf', 'share of the affected images\' cells'], rows, ''),
  ].join('\n');
}
