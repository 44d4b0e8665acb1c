/**
 * The "Token norms" section of the single-scan report (scan.json `norms`, Darcet et al. 2024): the norm
 * histogram per layer (a layer selector; the emergence layer first), the share of high-norm tokens per
 * layer for the fixed and the automatic threshold, border vs centre, the patch-position frequency grid,
 * and a per-layer table holding exactly the scan.json numbers.
 */
import type { NormLayer, ThresholdStats } from '../analyze/norms.js';
import { autoRange, normBorderChart, normFocusLayer, normHistogramChart, normSharesChart } from './charts-norms.js';
import { chartFigure, esc, fmt, sortableTable } from './html.js';
import { emptyPart, type ReportPart } from './parts.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { gridHeatmapSvg, percent } from './svg-grid.js';

const share = (v: number | null): [string, string | number] => (v === null ? ['–', -1] : [percent(v), v]);

/** Why the focus layer was chosen, for captions. */
function focusReason(scan: ScanJson, layer: number): string {
  if (layer === scan.emergence.firstLayer) return 'the first layer with massive activations';
  if (layer === scan.nearMissEmergence.firstLayer) return 'the first layer with near-misses';
  const last = scan.norms!.layers[scan.norms!.layers.length - 1].layer;
  return layer === last ? 'the last layer' : 'the first layer with tokens above the fixed threshold';
}

/** One sentence on the focus layer; every number is a scan.json number. */
function normsHeadline(scan: ScanJson, l: NormLayer): string {
  const n = scan.images.scanned;
  const regs = l.meanNorm.registers === null ? '' : `, registers ${fmt(l.meanNorm.registers)}`;
  const fixedRegs = l.fixed.registers === null ? '' : `; ${percent(l.fixed.registers)} of register tokens are above it`;
  return (
    `At layer ${l.layer}, ${percent(l.fixed.share)} of patch tokens are above the fixed threshold ${fmt(l.fixed.threshold)} ` +
    `(in ${l.fixed.images} of ${n} images)${fixedRegs}, and ${percent(l.auto.share)} of patch tokens are above the automatic threshold ${fmt(l.auto.threshold)} ` +
    `(in ${l.auto.images} of ${n} images). Mean norm: CLS ${fmt(l.meanNorm.cls)}${regs}, patches ${fmt(l.meanNorm.patches)} (sd ${fmt(l.patchStd)}).`
  );
}

/** The grid shown at the focus layer: the fixed threshold's when any patch passes it, else the automatic one's. */
function gridChoice(l: NormLayer): { which: 'fixed' | 'auto'; stats: ThresholdStats } | null {
  if (l.fixed.grid) return { which: 'fixed', stats: l.fixed };
  if (l.auto.grid) return { which: 'auto', stats: l.auto };
  return null;
}

export function normGridSvg(scan: ScanJson, l: NormLayer): string | undefined {
  const g = gridChoice(l);
  if (!g) return undefined;
  const what = g.which === 'fixed' ? `fixed threshold ${fmt(g.stats.threshold)}` : `automatic threshold ${fmt(g.stats.threshold)} (mean + 3 sd)`;
  return gridHeatmapSvg({
    grid: g.stats.grid!,
    title: `${scan.model.name}: high-norm patches at layer ${l.layer}`,
    subtitle: `share of the ${scan.images.scanned} images in which the patch's norm is above the ${what}`,
    xLabel: 'patch column (row number at left), as the model sees the image',
    format: percent,
    max: Math.max(...g.stats.grid!.flat()),
  });
}

function layerTable(scan: ScanJson): string {
  const n = scan.norms!;
  const headers = [
    'layer', 'mean norm CLS', 'registers', 'patches', 'patch sd',
    `> fixed (${fmt(n.layers[0].fixed.threshold)}): patches`, 'images', 'border', 'centre', 'CLS (images)', 'registers',
    'auto threshold', '> auto: patches', 'images', 'border', 'centre',
  ];
  const rows = n.layers.map((l): [string, string | number][] => [
    [esc(l.layer), l.layer],
    [fmt(l.meanNorm.cls), l.meanNorm.cls],
    [fmt(l.meanNorm.registers), l.meanNorm.registers ?? -1],
    [fmt(l.meanNorm.patches), l.meanNorm.patches],
    [fmt(l.patchStd), l.patchStd],
    share(l.fixed.share), [esc(l.fixed.images), l.fixed.images], share(l.fixed.border), share(l.fixed.centre), share(l.fixed.cls), share(l.fixed.registers),
    [fmt(l.auto.threshold), l.auto.threshold],
    share(l.auto.share), [esc(l.auto.images), l.auto.images], share(l.auto.border), share(l.auto.centre),
  ]);
  return sortableTable('norms-layers-table', headers, rows, 'No layers.');
}

export function normsPart(scan: ScanJson): ReportPart {
  const head = '<h2 id="norms">Token norms</h2>';
  const focus = normFocusLayer(scan);
  const n = scan.norms;
  if (!n || focus === null) {
    return emptyPart(`${head}\n<p class="empty">This scan holds no token-norm statistics (it was run with <code>--no-norms</code>, or by an older massivit). Run <code>massivit scan</code> without <code>--no-norms</code> to see them.</p>`);
  }
  const l = n.layers.find((x) => x.layer === focus)!;
  const last = n.layers[n.layers.length - 1];
  const variants: Record<string, ReturnType<typeof normHistogramChart>> = {};
  for (const x of n.layers) variants[String(x.layer)] = normHistogramChart(scan, x.layer);
  const charts = { 'norm-histogram': variants[String(focus)], 'norm-shares': normSharesChart(scan), 'norm-border': normBorderChart(scan) };
  const figureCharts = last.layer !== focus ? { [`norm-histogram-layer-${last.layer}`]: variants[String(last.layer)] } : {};
  const svgs: Record<string, string> = {};
  const grid = normGridSvg(scan, l);
  if (grid) svgs['norm-grid'] = grid;
  const options = n.layers.map((x) => `<option value="${esc(x.layer)}"${x.layer === focus ? ' selected' : ''}>layer ${esc(x.layer)}${x.layer === focus ? ` (${esc(focusReason(scan, x.layer))})` : ''}</option>`).join('');
  const g = gridChoice(l);
  const html = [
    head,
    `<p>The L2 norm of every token's hidden state (Darcet et al. 2024: models without registers grow a few high-norm patch tokens). Two thresholds: the fixed one, ${fmt(l.fixed.threshold)} (<code>--norm-threshold</code>), and an automatic one per layer, the ${esc(n.autoRule)} (${esc(autoRange(n))} here).</p>`,
    `<p class="headline">${esc(normsHeadline(scan, l))}</p>`,
    `<p class="switch"><label>Histogram of layer <select data-chart-switch="norm-histogram" aria-label="layer of the norm histogram">${options}</select></label></p>`,
    chartFigure('norm-histogram', `Token L2 norms at the chosen layer (opens on layer ${focus}, ${esc(focusReason(scan, focus))}): patch tokens vs CLS${scan.model.tokens.registers.length > 0 ? ' and register' : ''} tokens, counted over all images, in log-spaced bins; dashed: the fixed threshold, dotted: the automatic one.`),
    '<div class="cols">',
    chartFigure('norm-shares', `Share of patch tokens above each threshold per layer (fixed ${fmt(l.fixed.threshold)}; automatic ${esc(autoRange(n))}, mean + 3 sd of the layer)${scan.model.tokens.registers.length > 0 ? ', and of register tokens above the fixed one' : ''}.`),
    chartFigure('norm-border', 'Border patches (the outermost ring of the patch grid) vs centre patches above each threshold, per layer.'),
    '</div>',
    grid && g
      ? `<figure class="svg narrow">${grid}<figcaption>Where the high-norm patches sit at layer ${esc(l.layer)}: per patch position, the share of images in which its norm is above the ${g.which === 'fixed' ? 'fixed' : 'automatic'} threshold${g.which === 'auto' ? ' (no patch passes the fixed one)' : ''}.</figcaption></figure>`
      : `<p class="empty">At layer ${esc(l.layer)} no patch token is above either threshold, so there is no position map.</p>`,
    '<h3>Per layer</h3>',
    layerTable(scan),
  ].join('\n');
  return { html, charts, svgs, figureCharts, variants: { 'norm-histogram': variants } };
}
