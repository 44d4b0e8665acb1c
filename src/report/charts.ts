/**
 * Chart.js configurations, shared by the HTML (drawn in the browser) and the PNG figures (drawn by
 * @napi-rs/canvas): plain JSON, no callbacks, so the same object serves both and embeds safely.
 */
import type { TokenRole } from '../model/layout.js';
import type { ScanJson } from '../outputs/scan-json.js';
import type { FeatureTokenView } from '../analyze/feature-token.js';

export interface ChartConfig {
  type: 'line' | 'bar' | 'scatter';
  data: { labels?: (string | number)[]; datasets: Record<string, unknown>[] };
  options: Record<string, unknown>;
}

export const MODEL_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
export const ROLE_LABELS: Record<TokenRole, string> = { cls: 'CLS', register: 'register', patch: 'patch' };

const title = (text: string) => ({ display: true, text, font: { size: 16, weight: 'bold' } });
export const axis = (text: string) => ({ display: true, text, font: { size: 13 } });
const legend = { position: 'bottom', labels: { boxWidth: 18 } };

/** The options every chart shares: no animation, fixed size, a title, the legend below. */
export function chartOptions(heading: string, x: Record<string, unknown>, y: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    animation: false,
    responsive: false,
    plugins: { title: title(heading), legend },
    scales: { x, y },
    ...extra,
  };
}

/** Log axes are marked `powersOfTen`: both renderers label only 1, 10, 100, … (see logTickLabel). */
const logY = (label: string) => ({ type: 'logarithmic', title: axis(label), grid: { color: '#e6e9ef' }, ticks: { powersOfTen: true } });

/** Mean top-1/2/3 and median |a| per layer on a log scale, with the criterion (and near-miss band) drawn. */
export function layerCurvesChart(scan: ScanJson): ChartConfig {
  const labels = scan.layers.map((l) => l.layer);
  const c = scan.criteria;
  const line = (label: string, data: number[], color: string, extra: Record<string, unknown> = {}) => ({
    label, data, borderColor: color, backgroundColor: color, borderWidth: 2.5, pointRadius: 3, tension: 0, ...extra,
  });
  const dashed = { borderWidth: 1.5, pointRadius: 0, borderDash: [7, 5] };
  const dotted = { borderWidth: 1.2, pointRadius: 0, borderDash: [2, 4] };
  return {
    type: 'line',
    data: {
      labels,
      datasets: [
        line('top-1 |a|', scan.layers.map((l) => l.top1), '#b3261e'),
        line('top-2 |a|', scan.layers.map((l) => l.top2), '#e8710a'),
        line('top-3 |a|', scan.layers.map((l) => l.top3), '#d4a600'),
        line('median |a|', scan.layers.map((l) => l.median), '#1f77b4'),
        line(`criterion: |a| > ${c.absThreshold}`, labels.map(() => c.absThreshold), '#444', dashed),
        line(`criterion: ${c.ratioThreshold} × median`, scan.layers.map((l) => l.median * c.ratioThreshold), '#7b4fc4', dashed),
        line(`near-miss: |a| > ${c.absThreshold * c.nearMissFactor}`, labels.map(() => c.absThreshold * c.nearMissFactor), '#999', dotted),
        line(`near-miss: ${c.ratioThreshold * c.nearMissFactor} × median`, scan.layers.map((l) => l.median * c.ratioThreshold * c.nearMissFactor), '#b39ddb', dotted),
      ],
    },
    options: chartOptions(`${scan.model.name}: largest activations per layer`, { title: axis('layer (0 = embeddings, L = output of block L)') }, logY('|a|, mean over images')),
  };
}

function tokenLabel(scan: ScanJson, token: number): string {
  const t = scan.model.tokens;
  if (token === t.cls) return 'CLS';
  const r = t.registers.indexOf(token);
  if (r >= 0) return `reg ${r + 1} (token ${token})`;
  const i = token - t.patchStart;
  const cols = t.patchGrid[1];
  return `patch ${token} (r${Math.floor(i / cols)}, c${i % cols})`;
}

/** The tokens worth a bar: CLS, registers, the strongest patches, and two typical patches for contrast. */
function viewTokens(view: FeatureTokenView, scan: ScanJson): number[] {
  const start = scan.model.tokens.patchStart;
  const special = Array.from({ length: Math.min(start, view.tokens) }, (_, t) => t);
  const patches = Array.from({ length: view.tokens - start }, (_, i) => start + i).sort((a, b) => view.tokenMax[b] - view.tokenMax[a] || a - b);
  const strongest = patches.slice(0, 4);
  const typical = patches.length > 8 ? [patches[Math.floor(patches.length / 2)], patches[Math.floor(patches.length * 0.75)]] : [];
  return [...special, ...strongest, ...typical.filter((t) => !strongest.includes(t))];
}

/** Grouped bars: |a| of the flagged/top dims in selected tokens, and the largest other dim, log scale. */
export function featureTokenChart(view: FeatureTokenView, scan: ScanJson): ChartConfig {
  const tokens = viewTokens(view, scan);
  const palette = ['#b3261e', '#e8710a', '#7b4fc4', '#2ca02c', '#8c564b'];
  const floor = view.median / 10; // log axis: a bar for an exact zero would be invisible
  const datasets: Record<string, unknown>[] = view.topDims.map((d, i) => ({
    label: `dim ${d.dim}${d.flagged ? ' (massive/near-miss)' : ''}`,
    data: tokens.map((t) => Math.max(Math.abs(d.values[t]), floor)),
    backgroundColor: palette[i % palette.length],
  }));
  const top = new Set(view.topDims.map((d) => d.dim));
  // Largest |a| among the other dims: known when the token's argmax is another dim; otherwise no bar.
  datasets.push({
    label: 'largest other dim (if not shown)',
    data: tokens.map((t) => (top.has(view.tokenArgmax[t]) ? null : view.tokenMax[t])),
    backgroundColor: '#9aa3b2',
  });
  datasets.push({ label: 'median |a| of the layer', data: tokens.map(() => view.median), backgroundColor: '#1f77b4' });
  return {
    type: 'bar',
    data: { labels: tokens.map((t) => tokenLabel(scan, t)), datasets },
    options: chartOptions(
      `${scan.model.name}: feature × token at layer ${view.layer}`,
      { title: axis('token'), ticks: { autoSkip: false, maxRotation: 40, minRotation: 20 } },
      logY('|a| in one image'),
    ),
  };
}

export interface CompareSeries {
  name: string;
  scan: ScanJson;
}

/** Top-1 (solid) and median (dashed) per model; x = layer, or layer / number of blocks when `normalised`. */
export function compareCurvesChart(series: CompareSeries[], normalised: boolean): ChartConfig {
  const datasets: Record<string, unknown>[] = series.flatMap(({ name, scan }, i) => {
    const color = MODEL_COLORS[i % MODEL_COLORS.length];
    const x = (layer: number) => (normalised ? Number((layer / scan.model.numLayers).toFixed(4)) : layer);
    const base = { borderColor: color, backgroundColor: color, showLine: true, tension: 0 };
    return [
      { ...base, label: `${name}: top-1 |a|`, data: scan.layers.map((l) => ({ x: x(l.layer), y: l.top1 })), borderWidth: 2.5, pointRadius: 3 },
      { ...base, label: `${name}: median |a|`, data: scan.layers.map((l) => ({ x: x(l.layer), y: l.median })), borderWidth: 1.5, pointRadius: 0, borderDash: [6, 4] },
    ];
  });
  const abs = series[0]?.scan.criteria.absThreshold ?? 100;
  const xs = datasets.flatMap((d) => (d.data as { x: number }[]).map((p) => p.x));
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  datasets.push({
    label: `criterion: |a| > ${abs}`,
    data: [{ x: lo, y: abs }, { x: hi, y: abs }],
    borderColor: '#444', backgroundColor: '#444', showLine: true, tension: 0, borderWidth: 1.2, pointRadius: 0, borderDash: [7, 5],
  });
  const xAxis = normalised
    ? { type: 'linear', min: 0, max: 1, title: axis('normalised depth (layer / number of blocks)') }
    : { type: 'linear', title: axis('layer (0 = embeddings)'), ticks: { stepSize: 1 } };
  return {
    type: 'scatter',
    data: { datasets },
    options: chartOptions(normalised ? 'Top-1 and median |a| by normalised depth' : 'Top-1 and median |a| by layer', xAxis, logY('|a|, mean over images')),
  };
}

/** Massive-activation cells by token role, one bar group per role, one bar per model. */
export function compareRolesChart(names: string[], counts: Record<TokenRole, number>[], heading: string): ChartConfig {
  const roles: TokenRole[] = ['cls', 'register', 'patch'];
  return {
    type: 'bar',
    data: {
      labels: roles.map((r) => ROLE_LABELS[r]),
      datasets: names.map((name, i) => ({ label: name, data: roles.map((r) => counts[i][r]), backgroundColor: MODEL_COLORS[i % MODEL_COLORS.length] })),
    },
    options: chartOptions(heading, { title: axis('token role') }, { title: axis('cells (image × layer × token × dim)'), beginAtZero: true, ticks: { precision: 0 } }),
  };
}

/** Floating bars: the normalised-depth span where each model has massive activations and near-misses. */
export function compareEmergenceChart(series: CompareSeries[]): ChartConfig {
  const span = (e: { firstLayer: number | null; lastLayer: number | null }, n: number) =>
    e.firstLayer === null || e.lastLayer === null ? null : [Number((e.firstLayer / n).toFixed(4)), Number((Math.max(e.lastLayer, e.firstLayer + 0.3) / n).toFixed(4))];
  return {
    type: 'bar',
    data: {
      labels: series.map((s) => s.name),
      datasets: [
        { label: 'massive activations', data: series.map((s) => span(s.scan.emergence, s.scan.model.numLayers)), backgroundColor: '#b3261e' },
        { label: 'near-misses', data: series.map((s) => span(s.scan.nearMissEmergence, s.scan.model.numLayers)), backgroundColor: '#e8a33d' },
      ],
    },
    options: chartOptions(
      'Where massive activations live (layers, normalised depth)',
      { type: 'linear', min: 0, max: 1, title: axis('normalised depth (layer / number of blocks)') },
      { title: axis('model') },
      { indexAxis: 'y' },
    ),
  };
}

/** Mean token L2 norm per layer by role (patches solid, CLS dashed, registers dotted), from scan.json `norms`. */
export function compareNormsChart(series: CompareSeries[]): ChartConfig {
  const datasets: Record<string, unknown>[] = [];
  series.forEach(({ name, scan }, i) => {
    const layers = scan.norms?.layers ?? [];
    if (layers.length === 0) return;
    const color = MODEL_COLORS[i % MODEL_COLORS.length];
    const x = (layer: number) => Number((layer / scan.model.numLayers).toFixed(4));
    const base = { borderColor: color, backgroundColor: color, showLine: true, tension: 0 };
    datasets.push({ ...base, label: `${name}: patches`, data: layers.map((l) => ({ x: x(l.layer), y: l.meanNorm.patches })), borderWidth: 2.5, pointRadius: 2 });
    datasets.push({ ...base, label: `${name}: CLS`, data: layers.map((l) => ({ x: x(l.layer), y: l.meanNorm.cls })), borderWidth: 1.8, pointRadius: 0, borderDash: [8, 4] });
    if (layers.some((l) => l.meanNorm.registers !== null)) {
      datasets.push({ ...base, label: `${name}: registers`, data: layers.map((l) => ({ x: x(l.layer), y: l.meanNorm.registers })), borderWidth: 1.8, pointRadius: 0, borderDash: [2, 3] });
    }
  });
  return {
    type: 'scatter',
    data: { datasets },
    options: chartOptions('Mean token norm by role', { type: 'linear', min: 0, max: 1, title: axis('normalised depth (layer / number of blocks)') }, logY('mean L2 norm')),
  };
}

/** Tick label of a log axis: 1, 10, 100, 1,000 … (and 0.1, 0.01 …); nothing between powers of ten. */
export function logTickLabel(value: number): string {
  const p = Math.log10(value);
  if (!(Math.abs(p - Math.round(p)) < 1e-6)) return '';
  return value >= 1 ? Math.round(value).toLocaleString('en-US') : String(Number(value.toPrecision(1)));
}

/** Adds the tick callbacks JSON cannot carry (the browser does the same in client.ts). */
export function withTickLabels(config: ChartConfig): ChartConfig {
  const scales = (config.options.scales ?? {}) as Record<string, { ticks?: Record<string, unknown> }>;
  for (const scale of Object.values(scales)) if (scale.ticks?.powersOfTen) scale.ticks.callback = logTickLabel;
  return config;
}
