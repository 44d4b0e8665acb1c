/**
 * The "Attention sinks" section of the single-scan report (scan.json `attention`, scan --attention): the
 * sink share per block × head as a heatmap, sink / CLS / register shares per block against their uniform
 * baselines, the dataset-mean CLS → patch map at the last block, and a per-block table. Without attention
 * data it says how to get it.
 */
import type { AttentionSummary, BlockSummary } from '../analyze/attention.js';
import { tokenRole } from '../model/layout.js';
import { registerBaseline, sinkLayersChart } from './charts-attention.js';
import { ROLE_LABELS } from './charts.js';
import { chartFigure, esc, fmt, sortableTable } from './html.js';
import { emptyPart, type ReportPart } from './parts.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { layoutOf } from '../outputs/scan-json.js';
import { gridHeatmapSvg, percent } from './svg-grid.js';

/** "1.2%" or "1.2%–1.5%": the sink baseline can differ between blocks only when images lack some blocks. */
function baselineText(a: AttentionSummary): string {
  const bs = a.blocks.map((b) => b.baseline);
  const [lo, hi] = [Math.min(...bs), Math.max(...bs)];
  return percent(lo) === percent(hi) ? percent(lo) : `${percent(lo)}–${percent(hi)}`;
}

const ratio = (b: BlockSummary) => (b.baseline > 0 ? b.sinkShare / b.baseline : null);

/** The block whose heads give the sink tokens the most attention, and its strongest head. */
function strongestSink(a: AttentionSummary): { block: BlockSummary; head: BlockSummary['heads'][number] } | null {
  if (a.blocks.length === 0) return null;
  const block = a.blocks.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x));
  const head = block.heads.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x));
  return { block, head };
}

/** One sentence; every number is a scan.json number. */
function attentionHeadline(a: AttentionSummary): string {
  const s = strongestSink(a);
  if (!s || a.sinkKinds.none === a.images) return 'No image has massive or near-miss tokens, so there are no sink tokens to measure.';
  const r = ratio(s.block);
  return (
    `Block ${s.block.block} gives the sink tokens the most attention: ${percent(s.block.sinkShare)} of its heads' attention mass on average` +
    `${r === null ? '' : ` (${fmt(r)}× the uniform baseline ${percent(s.block.baseline)})`}; its head ${s.head.head} gives them ${percent(s.head.sinkShare)}.`
  );
}

function sinkTokenText(scan: ScanJson, a: AttentionSummary): string {
  const layout = layoutOf(scan);
  if (a.sinkTokens.length === 0) return 'none';
  return a.sinkTokens.map(([t, n]) => `token ${t} (${ROLE_LABELS[tokenRole(layout, t)]}, ${n} image${n === 1 ? '' : 's'})`).join(', ');
}

function headsSvg(scan: ScanJson, a: AttentionSummary): string {
  const heads = Math.max(...a.blocks.map((b) => b.heads.length));
  return gridHeatmapSvg({
    grid: a.blocks.map((b) => Array.from({ length: heads }, (_, h) => b.heads[h]?.sinkShare ?? null)),
    title: `${scan.model.name}: attention to the sink tokens per block and head`,
    subtitle: `share of each head's attention mass (mean over queries and images) on the sink tokens; uniform baseline ${baselineText(a)}`,
    xLabel: 'head',
    yLabel: 'block',
    rowLabels: a.blocks.map((b) => String(b.block)),
    cellName: (r, c) => `block ${a.blocks[r].block}, head ${c}`,
    format: percent,
    palette: 'viridis',
  });
}

export function clsMapSvg(scan: ScanJson, b: BlockSummary): string {
  const mass = b.clsMap.flat().reduce((x, y) => x + y, 0);
  return gridHeatmapSvg({
    grid: b.clsMap,
    title: `${scan.model.name}: CLS attention to each patch, block ${b.block}`,
    subtitle: `dataset mean over heads and ${scan.attention!.images} images; the patches get ${percent(mass)} of the CLS query's attention`,
    xLabel: 'patch column (row number at left), as the model sees the image',
    format: percent,
    palette: 'viridis',
    cellText: b.clsMap[0]?.length <= 16,
  });
}

function blockTable(scan: ScanJson, a: AttentionSummary): string {
  const regs = scan.model.tokens.registers.length > 0;
  const headers = ['block', 'sink share', '× baseline', 'baseline', 'CLS share', ...(regs ? ['register share', 'register baseline'] : []), 'CLS query → sinks', 'strongest head (sink share)'];
  const rows = a.blocks.map((b): [string, string | number][] => {
    const r = ratio(b);
    const clsToSink = b.heads.reduce((x, h) => x + h.clsToSinkShare, 0) / Math.max(1, b.heads.length);
    const top = b.heads.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x), b.heads[0]);
    return [
      [esc(b.block), b.block],
      [percent(b.sinkShare), b.sinkShare],
      [r === null ? '–' : `${fmt(r)}×`, r ?? -1],
      [percent(b.baseline), b.baseline],
      [percent(b.clsShare), b.clsShare],
      ...(regs ? [[percent(b.registerShare ?? 0), b.registerShare ?? 0], [percent(registerBaseline(scan, b)), registerBaseline(scan, b)]] as [string, number][] : []),
      [percent(clsToSink), clsToSink],
      top ? [`head ${top.head} (${percent(top.sinkShare)})`, top.sinkShare] : ['–', -1],
    ];
  });
  return sortableTable('attention-table', headers, rows, 'No blocks.');
}

export function attentionPart(scan: ScanJson): ReportPart {
  const head = '<h2 id="attention">Attention sinks</h2>';
  const a = scan.attention;
  if (!a) {
    return emptyPart(
      `${head}\n<p class="empty">This scan was run without <code>--attention</code>. Run <code>massivit scan --attention</code> (same model, images and <code>--out</code>) to see how much attention each block and head gives to the tokens holding the massive activations (attention sinks), to CLS and to the registers, and where the CLS token looks.</p>`,
    );
  }
  if (a.blocks.length === 0) {
    const why = a.missing.map((m) => `block ${m.block}: ${m.reason}`).join('; ');
    return emptyPart(`${head}\n<p class="empty">Attention was requested but no block's attention could be tapped${why ? ` (${esc(why)})` : ''}.</p>`);
  }
  const last = a.blocks[a.blocks.length - 1];
  const svgs = { 'sink-heads': headsSvg(scan, a), 'cls-map': clsMapSvg(scan, last) };
  const k = a.sinkKinds;
  const html = [
    head,
    `<p>Sun et al. (2024): the tokens holding massive activations act as attention sinks, a fixed bias that many heads attend to. Per image, the sink tokens S are those holding a massive or near-miss cell at any layer; a share is the attention mass (mean over queries, 0–100%) a head gives them. Images: ${a.images} — S from massive cells in ${k.massive}, from near-misses in ${k.near}, empty in ${k.none} (left out of the sink shares). Most frequent sink tokens: ${esc(sinkTokenText(scan, a))}.</p>`,
    `<p class="headline">${esc(attentionHeadline(a))}</p>`,
    `<figure class="svg narrow">${svgs['sink-heads']}<figcaption>Sink share per block (rows) and head (columns). If attention were uniform, S would get ${esc(baselineText(a))} (|S| / tokens, mean over images).</figcaption></figure>`,
    chartFigure('sink-layers', 'Attention mass on the sink tokens, on CLS and on the registers, per block (mean over heads), each against the share uniform attention would give it (dashed); log scale.'),
    `<figure class="svg narrow">${svgs['cls-map']}<figcaption>Where the CLS token looks in the last block (${esc(last.block)}): its attention to each patch, mean over heads and images (CLS${scan.model.tokens.registers.length > 0 ? ' and registers' : ''} left out, not renormalised).</figcaption></figure>`,
    '<h3>Per block</h3>',
    blockTable(scan, a),
    a.missing.length > 0 ? `<p class="warn">Blocks without attention data: ${esc(a.missing.map((m) => `${m.block} (${m.reason})`).join('; '))}.</p>` : '',
  ].join('\n');
  return { html, charts: { 'sink-layers': sinkLayersChart(scan) }, svgs };
}
