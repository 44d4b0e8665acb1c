/**
 * Chart.js configurations for the token-norm statistics (scan.json `norms`): the norm histogram of one
 * layer on a log axis, the share of high-norm patch tokens per layer (fixed and automatic threshold), the
 * border vs centre shares, and the per-model high-norm share of a comparison. Plain JSON, like charts.ts.
 */
import type { NormLayer, NormSummary } from '../analyze/norms.js';
import { MODEL_COLORS, axis, chartOptions, type ChartConfig, type CompareSeries } from './charts.js';
import { fmt } from './html.js';
import type { ScanJson } from '../outputs/scan-json.js';

const pct = (share: number | null) => (share === null ? null : Number((100 * share).toPrecision(6)));

/** The layer a norm chart opens on: where massive activations (else near-misses) emerge, else the last. */
export function normFocusLayer(scan: ScanJson): number | null {
  const layers = scan.norms?.layers ?? [];
  if (layers.length === 0) return null;
  const has = (l: number | null) => l !== null && layers.some((x) => x.layer === l);
  for (const l of [scan.emergence.firstLayer, scan.nearMissEmergence.firstLayer]) if (has(l)) return l;
  const high = layers.find((l) => l.fixed.share > 0 || (l.fixed.registers ?? 0) > 0);
  return high ? high.layer : layers[layers.length - 1].layer;
}

/** "mean + 3 sd: 5.08–5.97" (the automatic threshold differs per layer). */
export function autoRange(norms: NormSummary): string {
  const ts = norms.layers.map((l) => l.auto.threshold);
  const [lo, hi] = [Math.min(...ts), Math.max(...ts)];
  return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
}

/** The x range every layer's histogram shares (so switching layers keeps the axis): occupied bins and thresholds. */
function histogramRange(norms: NormSummary): [number, number] {
  const e = norms.binEdges;
  let [lo, hi] = [Infinity, -Infinity];
  for (const l of norms.layers) {
    l.histogram.patch.forEach((c, k) => { if (c > 0 || l.histogram.special[k] > 0) [lo, hi] = [Math.min(lo, e[k]), Math.max(hi, e[k + 1])]; });
    for (const t of [l.fixed.threshold, l.auto.threshold]) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
  }
  if (!Number.isFinite(lo)) return [e[0], e[e.length - 1]];
  return [Math.max(e[0], lo / 1.5), Math.min(e[e.length - 1], hi * 1.5)];
}

/**
 * Histogram of token L2 norms at one layer: patch tokens and CLS + register tokens as bars on a log x axis
 * (the bins are log-spaced, so every bar has the same width), log count axis, both thresholds drawn.
 */
export function normHistogramChart(scan: ScanJson, layer: number): ChartConfig {
  const norms = scan.norms!;
  const l = norms.layers.find((x) => x.layer === layer)!;
  const e = norms.binEdges;
  const [lo, hi] = histogramRange(norms);
  const peak = Math.max(1, ...norms.layers.flatMap((x) => [...x.histogram.patch, ...x.histogram.special]));
  const top = 10 ** Math.ceil(Math.log10(peak * 1.5));
  const bins = (counts: number[]) =>
    counts.flatMap((c, k) => {
      const x = Math.sqrt(e[k] * e[k + 1]);
      return x >= lo && x <= hi ? [{ x: Number(x.toPrecision(6)), y: c > 0 ? c : null }] : [];
    });
  const regs = scan.model.tokens.registers.length;
  // Side by side, 'flex': each pair of bars spans its bin (the default width would shrink to the gap between the
  // axis end and its nearest tick on a log axis).
  const bar = { type: 'bar', barThickness: 'flex', barPercentage: 1, categoryPercentage: 1, borderWidth: 0 };
  const rule = (label: string, t: number, color: string, dash: number[]) => ({
    type: 'line', label, data: [{ x: t, y: 0.5 }, { x: t, y: top }], borderColor: color, backgroundColor: color, borderWidth: 2, borderDash: dash, pointRadius: 0, showLine: true,
  });
  return {
    type: 'bar',
    data: {
      datasets: [
        { ...bar, label: `${regs > 0 ? 'CLS + register' : 'CLS'} tokens (${sum(l.histogram.special).toLocaleString('en-US')})`, data: bins(l.histogram.special), backgroundColor: 'rgba(214,39,40,0.75)' },
        { ...bar, label: `patch tokens (${sum(l.histogram.patch).toLocaleString('en-US')})`, data: bins(l.histogram.patch), backgroundColor: 'rgba(31,119,180,0.65)' },
        rule(`fixed threshold ${fmt(l.fixed.threshold)}`, l.fixed.threshold, '#444', [7, 5]),
        rule(`auto threshold ${fmt(l.auto.threshold)} (mean + 3 sd)`, l.auto.threshold, '#7b4fc4', [2, 4]),
      ],
    },
    options: chartOptions(
      `${scan.model.name}: token L2 norms at layer ${l.layer}`,
      { type: 'logarithmic', min: lo, max: hi, title: axis('L2 norm of the token (log scale; 8 bins per decade)'), grid: { color: '#e6e9ef' }, ticks: { powersOfTen: true } },
      { type: 'logarithmic', min: 0.5, max: top, title: axis(`tokens, all ${scan.images.scanned} images (log scale)`), grid: { color: '#e6e9ef' }, ticks: { powersOfTen: true } },
    ),
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function lineChart(heading: string, labels: number[], datasets: Record<string, unknown>[], yLabel: string, xLabel = 'layer (0 = embeddings, L = output of block L)'): ChartConfig {
  return {
    type: 'line',
    data: { labels, datasets },
    options: chartOptions(heading, { title: axis(xLabel) }, { beginAtZero: true, title: axis(yLabel), grid: { color: '#e6e9ef' } }),
  };
}

const line = (label: string, data: (number | null)[], color: string, extra: Record<string, unknown> = {}) => ({
  label, data, borderColor: color, backgroundColor: color, borderWidth: 2.5, pointRadius: 3, tension: 0, spanGaps: false, ...extra,
});

/** Share of patch tokens above the fixed and the automatic threshold, per layer (and registers above fixed). */
export function normSharesChart(scan: ScanJson): ChartConfig {
  const norms = scan.norms!;
  const ls = norms.layers;
  const datasets: Record<string, unknown>[] = [
    line(`patches above the fixed threshold (${fmt(ls[0].fixed.threshold)})`, ls.map((l) => pct(l.fixed.share)), '#b3261e'),
    line(`patches above the auto threshold (mean + 3 sd: ${autoRange(norms)})`, ls.map((l) => pct(l.auto.share)), '#7b4fc4', { borderDash: [7, 4] }),
  ];
  if (scan.model.tokens.registers.length > 0) {
    datasets.push(line(`registers above the fixed threshold (${fmt(ls[0].fixed.threshold)})`, ls.map((l) => pct(l.fixed.registers)), '#2ca02c', { borderWidth: 1.8, borderDash: [2, 3] }));
  }
  return lineChart(`${scan.model.name}: high-norm tokens per layer`, ls.map((l) => l.layer), datasets, '% of tokens above the threshold');
}

/** Border (outermost ring of the patch grid) vs centre patches above each threshold, per layer. */
export function normBorderChart(scan: ScanJson): ChartConfig {
  const norms = scan.norms!;
  const ls = norms.layers;
  const fixed = fmt(ls[0].fixed.threshold);
  return lineChart(`${scan.model.name}: high-norm patches, border vs centre`, ls.map((l) => l.layer), [
    line(`border patches above the fixed threshold (${fixed})`, ls.map((l) => pct(l.fixed.border)), '#e8710a'),
    line(`centre patches above the fixed threshold (${fixed})`, ls.map((l) => pct(l.fixed.centre)), '#1f77b4'),
    line(`border patches above the auto threshold (${autoRange(norms)})`, ls.map((l) => pct(l.auto.border)), '#e8710a', { borderWidth: 1.8, borderDash: [6, 4], pointRadius: 0 }),
    line(`centre patches above the auto threshold (${autoRange(norms)})`, ls.map((l) => pct(l.auto.centre)), '#1f77b4', { borderWidth: 1.8, borderDash: [6, 4], pointRadius: 0 }),
  ], '% of border / centre patch tokens above');
}

/** x of a layer in a comparison: the layer itself, or layer / blocks when the models differ in depth. */
function depthX(scan: ScanJson, layer: number, normalised: boolean): number {
  return normalised ? Number((layer / scan.model.numLayers).toFixed(4)) : layer;
}

export function depthAxis(normalised: boolean, what = 'layer (0 = embeddings)'): Record<string, unknown> {
  return normalised
    ? { type: 'linear', min: 0, max: 1, title: axis('normalised depth (layer / number of blocks)') }
    : { type: 'linear', title: axis(what), ticks: { stepSize: 1 } };
}

/** What one model contributes to a comparison chart: a solid and a dashed series over its layers. */
export interface DepthPair<R extends { layer: number }> {
  rows: R[];
  solid: [label: string, value: (r: R) => number];
  dashed: [label: string, value: (r: R) => number];
}

/** One solid and one dashed line per model, x = layer or normalised depth (the comparison charts' shape). */
export function depthPairs<R extends { layer: number }>(
  series: CompareSeries[],
  normalised: boolean,
  toPct: (share: number | null) => number | null,
  pick: (scan: ScanJson) => DepthPair<R> | undefined,
): Record<string, unknown>[] {
  const datasets: Record<string, unknown>[] = [];
  series.forEach(({ name, scan }, i) => {
    const pair = pick(scan);
    if (!pair || pair.rows.length === 0) return;
    const color = MODEL_COLORS[i % MODEL_COLORS.length];
    const base = { borderColor: color, backgroundColor: color, showLine: true, tension: 0 };
    const pts = (f: (r: R) => number) => pair.rows.map((r) => ({ x: depthX(scan, r.layer, normalised), y: toPct(f(r)) }));
    datasets.push({ ...base, label: `${name}: ${pair.solid[0]}`, data: pts(pair.solid[1]), borderWidth: 2.5, pointRadius: 3 });
    datasets.push({ ...base, label: `${name}: ${pair.dashed[0]}`, data: pts(pair.dashed[1]), borderWidth: 1.6, pointRadius: 0, borderDash: [7, 5] });
  });
  return datasets;
}

/** Per model: share of patch tokens above the fixed (solid) and the automatic (dashed) threshold per layer. */
export function compareHighNormChart(series: CompareSeries[], normalised: boolean): ChartConfig {
  const datasets = depthPairs<NormLayer>(series, normalised, pct, (scan) => {
    const rows = scan.norms?.layers ?? [];
    return rows.length === 0
      ? undefined
      : { rows, solid: [`above fixed (${fmt(rows[0].fixed.threshold)})`, (l) => l.fixed.share], dashed: ['above auto (mean + 3 sd)', (l) => l.auto.share] };
  });
  return {
    type: 'scatter',
    data: { datasets },
    options: chartOptions(normalised ? 'High-norm patch tokens by normalised depth' : 'High-norm patch tokens by layer', depthAxis(normalised), { beginAtZero: true, title: axis('% of patch tokens above the threshold'), grid: { color: '#e6e9ef' } }),
  };
}
