/**
 * Chart.js configurations for the attention-sink statistics (scan.json `attention`): sink, CLS and register
 * shares per block against their uniform baselines, and the per-model sink share of a comparison.
 */
import type { BlockSummary } from '../analyze/attention.js';
import { axis, chartOptions, type ChartConfig, type CompareSeries } from './charts.js';
import { depthAxis, depthPairs } from './charts-norms.js';
import type { ScanJson } from '../outputs/scan-json.js';

/** Percent, for a log axis: an exact 0 has no place on it, so it becomes a gap. */
const pct = (share: number | null) => (share === null || !(share > 0) ? null : Number((100 * share).toPrecision(6)));
/** A log axis from the power of ten below the data to the one above, so at least two ticks are labelled. */
function logPct(label: string, values: (number | null)[]): Record<string, unknown> {
  const vs = values.filter((v): v is number => v !== null && v > 0);
  const bounds = vs.length > 0 ? { min: 10 ** Math.floor(Math.log10(Math.min(...vs))), max: 10 ** Math.ceil(Math.log10(Math.max(...vs) * 1.0001)) } : {};
  return { type: 'logarithmic', ...bounds, title: axis(label), grid: { color: '#e6e9ef' }, ticks: { powersOfTen: true } };
}
const ys = (datasets: Record<string, unknown>[]) => datasets.flatMap((d) => (d.data as (number | null | { y: number | null })[]).map((p) => (p !== null && typeof p === 'object' ? p.y : p)));

/** Uniform share of all registers together: registers / tokens. */
export function registerBaseline(scan: ScanJson, b: BlockSummary): number {
  return scan.model.tokens.registers.length * b.tokenBaseline;
}

/** Sink / CLS / register share (head mean) per block, each with its uniform baseline dashed; log scale. */
export function sinkLayersChart(scan: ScanJson): ChartConfig {
  const blocks = scan.attention!.blocks;
  const line = (label: string, data: (number | null)[], color: string, extra: Record<string, unknown> = {}) => ({
    label, data, borderColor: color, backgroundColor: color, borderWidth: 2.5, pointRadius: 3, tension: 0, ...extra,
  });
  const dashed = { borderWidth: 1.4, pointRadius: 0, borderDash: [7, 5] };
  const datasets: Record<string, unknown>[] = [
    line('sink tokens (massive / near-miss holders)', blocks.map((b) => pct(b.sinkShare)), '#b3261e'),
    line('uniform baseline for the sink tokens (|S| / tokens)', blocks.map((b) => pct(b.baseline)), '#b3261e', dashed),
    line('CLS', blocks.map((b) => pct(b.clsShare)), '#1f77b4'),
    line('uniform baseline for one token (1 / tokens)', blocks.map((b) => pct(b.tokenBaseline)), '#1f77b4', dashed),
  ];
  if (scan.model.tokens.registers.length > 0) {
    datasets.push(line('registers (all)', blocks.map((b) => pct(b.registerShare)), '#7b4fc4'));
    datasets.push(line('uniform baseline for the registers', blocks.map((b) => pct(registerBaseline(scan, b))), '#7b4fc4', dashed));
  }
  return {
    type: 'line',
    data: { labels: blocks.map((b) => b.block), datasets },
    options: chartOptions(`${scan.model.name}: attention received per block (mean over heads and queries)`, { title: axis('block (its attention reads the hidden state of the same layer index)') }, logPct('% of attention mass (log scale)', ys(datasets))),
  };
}

/** Per model: sink share (solid) and its uniform baseline (dashed) per block, by layer or normalised depth. */
export function compareSinkChart(series: CompareSeries[], normalised: boolean): ChartConfig {
  const datasets = depthPairs<BlockSummary>(series, normalised, pct, (scan) => {
    const rows = scan.attention?.blocks ?? [];
    return rows.length === 0 ? undefined : { rows, solid: ['sink share', (b) => b.sinkShare], dashed: ['uniform baseline', (b) => b.baseline] };
  });
  return {
    type: 'scatter',
    data: { datasets },
    options: chartOptions(normalised ? 'Attention to the sink tokens by normalised depth' : 'Attention to the sink tokens by block', depthAxis(normalised, 'block'), logPct('% of attention mass on the sink tokens (log scale)', ys(datasets))),
  };
}
