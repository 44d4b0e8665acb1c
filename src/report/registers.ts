/**
 * The `registers find` report section, as a small standalone page next to the neurons file: a neuron ×
 * block chart (mean |a| at the outliers of the top neurons per block, the chosen ones marked), the ranked
 * table, and per chosen neuron a patch-grid heatmap of where it fires (mean |a| per patch over the images).
 */
import { writeFileAtomic } from '../contracts/atomic.js';
import type { ModelSpec } from '../model/load.js';
import { axis, chartOptions, MODEL_COLORS, type ChartConfig } from './charts.js';
import { chartFigure, esc, fmt, renderPage, sortableTable } from './html.js';
import { gridHeatmapSvg } from './svg-grid.js';
import type { NeuronsFile } from '../outputs/register-neurons.js';
import type { NeuronScore } from '../analyze/registers/scores.js';

/** Neurons per block drawn in the chart (the rest are near 0 at the outliers). */
const PER_BLOCK = 20;
const TABLE_ROWS = 25;

function neuronBlockChart(ranked: NeuronScore[], chosen: Set<string>): ChartConfig {
  const byBlock = new Map<number, NeuronScore[]>();
  for (const s of ranked) {
    const list = byBlock.get(s.block) ?? [];
    if (list.length < PER_BLOCK) byBlock.set(s.block, [...list, s]);
  }
  const point = (s: NeuronScore) => ({ x: s.block, y: Math.max(s.atOutliers, 1e-3), neuron: s.neuron });
  const all = [...byBlock.values()].flat();
  return {
    type: 'scatter',
    data: {
      datasets: [
        { label: `top ${PER_BLOCK} neurons per block`, data: all.filter((s) => !chosen.has(`${s.block}:${s.neuron}`)).map(point), backgroundColor: MODEL_COLORS[0], pointRadius: 3 },
        { label: 'chosen register neurons', data: all.filter((s) => chosen.has(`${s.block}:${s.neuron}`)).map(point), backgroundColor: MODEL_COLORS[1], pointRadius: 7 },
      ],
    },
    options: chartOptions(
      'Register-neuron candidates: mean |activation| at the outlier tokens',
      { type: 'linear', title: axis('block (0-based; hook_post of blocks.{b}.mlp)'), ticks: { stepSize: 1 } },
      { type: 'logarithmic', title: axis('mean |a| at the outliers'), ticks: { powersOfTen: true } },
    ),
  };
}

/** What `registers find` measured: the file, every neuron ranked, and the chosen neurons' patch grids. */
export interface NeuronsReportInput {
  file: NeuronsFile;
  ranked: NeuronScore[];
  grids: number[][];
}

/** Writes <file>.html next to the neurons file; returns its path. */
export function writeNeuronsReport(jsonPath: string, spec: ModelSpec, r: NeuronsReportInput): string {
  const f = r.file;
  const d = f.detection;
  const chosen = new Set(f.neurons.map((n) => `${n.block}:${n.index}`));
  const [rows, cols] = spec.tokens.patchGrid;
  const rowsOf = (values: number[]) => Array.from({ length: rows }, (_, i) => values.slice(i * cols, (i + 1) * cols));
  const table = sortableTable(
    'neurons',
    ['rank', 'block', 'neuron', 'mean |a| at outliers', 'mean |a| elsewhere', 'ratio', 'sign', 'chosen'],
    r.ranked.slice(0, TABLE_ROWS).map((s, i) => [
      [String(i + 1), i + 1],
      [String(s.block), s.block],
      [String(s.neuron), s.neuron],
      [fmt(s.atOutliers), s.atOutliers],
      [fmt(s.elsewhere), s.elsewhere],
      [s.ratio === null ? '∞' : fmt(s.ratio), s.ratio ?? Number.MAX_VALUE],
      [s.sign > 0 ? '+' : '−', s.sign],
      [chosen.has(`${s.block}:${s.neuron}`) ? 'yes' : '', chosen.has(`${s.block}:${s.neuron}`) ? 1 : 0],
    ]),
    'No outlier tokens: no neuron to rank.',
  );
  const outlierGrid = gridHeatmapSvg({
    grid: rowsOf(Array.from({ length: d.patchesPerImage }, (_, p) => d.byPatch.find((b) => b.patch === p)?.count ?? 0)),
    title: `Outlier tokens at layer ${d.layer}`,
    subtitle: `images (of ${f.images.used}) in which the patch is an outlier`,
    xLabel: 'patch column',
    yLabel: 'patch row',
    format: (v) => String(v),
  });
  const grids = f.neurons.map((n, i) =>
    gridHeatmapSvg({
      grid: rowsOf(r.grids[i]),
      title: `Block ${n.block} neuron ${n.index}`,
      subtitle: 'mean |a| per patch over the images',
      xLabel: 'patch column',
      yLabel: 'patch row',
      format: (v) => fmt(v, 2),
      cellText: false,
    }),
  );
  const body = [
    `<h1>Test-time register neurons — ${esc(spec.name)}</h1>`,
    `<p>Detection layer ${d.layer} (${esc(d.layerSource)}); outliers: patch tokens with L2 norm above ${fmt(d.threshold)} (${esc(d.thresholdSource)}) ` +
      `and at least ${fmt(d.minRatio)}× the median patch norm: ${d.outliers} tokens in ${f.images.used} images. ` +
      `Scores: mean |hook_post| of each neuron of blocks 0 … ${d.layer - 1} at the outliers vs the other patch tokens.</p>`,
    `<p>Chosen: ${f.neurons.length} neurons — ${esc(f.selection.rule)} (they hold ${fmt(100 * f.selection.massShare)}% of it).</p>`,
    `<figure class="grid">${outlierGrid}</figure>`,
    chartFigure('neuron-block', 'Each point is one neuron; red: the chosen register neurons.'),
    table,
    ...grids.map((g) => `<figure class="grid">${g}</figure>`),
  ].join('\n');
  const html = jsonPath.replace(/\.json$/i, '') + '.html';
  writeFileAtomic(html, renderPage({ title: `Register neurons — ${spec.name}`, body, data: { charts: { 'neuron-block': neuronBlockChart(r.ranked, chosen) } } }));
  return html;
}
