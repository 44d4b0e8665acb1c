/**
 * The single-scan report: <out>/report.html (+ <out>/figures/*.png), rebuilt from scan.json, scan.sqlite
 * and views/feature-token.json alone, so `massivit report <out>` needs neither the model nor a network.
 */
import { ensureOutputDir, writeFileAtomic } from '../contracts/atomic.js';
import { dirname, join, resolve } from 'node:path';
import { layerCurvesChart, featureTokenChart, type ChartConfig } from './charts.js';
import { writeFigures, type CanvasLoader, type FigureResult } from './figures.js';
import { chartFigure, esc, fmt, renderPage } from './html.js';
import { layoutOf, type ScanJson } from '../outputs/scan-json.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import { nonFiniteSection } from './sections-non-finite.js';
import { criteriaText, errorList, footer, groupTable, headline, layoutText, roleCell, syntheticBanner, warningList } from './sections.js';
import { imagesRoot, maxPixelsOf, openStoreReadOnly, positionCounts, preprocessOf, topImages, type CellKindShown, type TopImage } from '../store/reads.js';
import { featureTokenSvg, positionHeatmapSvg } from './svg.js';
import { thumbnails, type Thumbnail } from './thumbs.js';
import type { FeatureTokenView } from '../analyze/feature-token.js';
import { readView } from '../outputs/view-json.js';
import type { ReportPart } from './parts.js';
import { normsPart } from './sections-norms.js';
import { attentionPart } from './sections-attention.js';
import { findIntervention, intervenePart } from './sections-intervene.js';
import { biasPart, findBias } from './sections-bias.js';
import type { Db } from '../store/db.js';

import { REPORT_FILE, FIGURES_DIR } from '../contracts/files.js';
const TOP_IMAGES = 6;

export interface ReportOptions {
  /** Where to write the HTML (default <scanDir>/report.html). */
  html?: string;
  /** Folder for PNG figures (default <scanDir>/figures); false writes none. */
  figures?: string | false;
  /** Replaces the chartjs-node-canvas import (tests simulate a machine without `canvas`). */
  loadCanvas?: CanvasLoader;
  /** The date printed in the report (default now). */
  now?: Date;
  /** Where the scanned photos are now (default: where the scan recorded them). */
  imagesRoot?: string;
  /** An intervene.json to show (default: <scanDir>/intervene.json when present). */
  intervene?: string;
}

export interface ReportResult {
  html: string;
  figures?: FigureResult;
  /** Things the report had to leave out, one line each (e.g. photos that were moved). */
  notes: string[];
}

interface WhereData {
  kind: CellKindShown | null;
  grid: number[][];
  thumbs: Thumbnail[];
}

async function whereData(db: Db | undefined, scan: ScanJson, notes: string[], photos: string | undefined): Promise<WhereData> {
  if (!db) {
    notes.push('scan.sqlite is missing: no patch-position heatmap or thumbnails');
    return { kind: null, grid: [], thumbs: [] };
  }
  const layout = layoutOf(scan);
  const kind: CellKindShown | null = scan.massive.length > 0 ? 'massive' : scan.nearMisses.length > 0 ? 'near-miss' : null;
  if (!kind) return { kind, grid: [], thumbs: [] };
  const grid = positionCounts(db, layout, kind);
  const top: TopImage[] = topImages(db, layout, kind, TOP_IMAGES);
  const root = photos ?? imagesRoot(db);
  if (!root) {
    notes.push('the scan did not record where its photos are: thumbnails skipped');
    return { kind, grid, thumbs: [] };
  }
  const thumbs = await thumbnails(top, {
    imagesRoot: root,
    preprocess: preprocessOf(db),
    maxPixels: maxPixelsOf(db),
    inputSize: scan.model.inputSize,
    patchGrid: scan.model.tokens.patchGrid,
    color: kind === 'massive' ? '#ff2d20' : '#ffa500',
  });
  const missing = thumbs.filter((t) => t.missing).length;
  if (missing > 0) notes.push(`${missing} of ${thumbs.length} thumbnails skipped: ${thumbs.find((t) => t.missing)!.missing}`);
  return { kind, grid, thumbs: thumbs.filter((t) => t.dataUri) };
}

function whereSection(where: WhereData, heatmap: string | undefined): string {
  const out = ['<h2 id="where">Where they sit</h2>'];
  if (!where.kind) {
    out.push('<p class="empty">No massive activations or near-misses, so nothing to place.</p>');
    return out.join('\n');
  }
  const what = where.kind === 'massive' ? 'massive activation' : 'near-miss (no massive activation met the criterion)';
  const patchCells = where.grid.flat().reduce((a, b) => a + b, 0);
  if (heatmap && patchCells > 0) out.push(`<figure class="svg narrow">${heatmap}<figcaption>Each square is a patch position; the number is how many images hold a ${esc(what)} there at any layer.</figcaption></figure>`);
  else out.push(`<p class="headline">No patch token holds a ${esc(what)}: they sit in CLS/register tokens, so the patch grid is empty.</p>`);
  if (where.thumbs.length > 0) {
    out.push(`<h3>Top images</h3><p>The ${where.thumbs.length} images with the largest |a| among their ${esc(where.kind === 'massive' ? 'massive activations' : 'near-misses')}, as the model sees them (resized and cropped like preprocessing); outlined: the patches that hold one at any layer.</p>`);
    out.push('<div class="thumbs">');
    for (const t of where.thumbs) {
      const c = t.image.top;
      const at = c.position ? `patch r${esc(c.position[0])}, c${esc(c.position[1])}` : `${roleCell(c.role)}, not a patch: nothing to outline`;
      const others = t.image.specialTokens.filter((k) => k !== c.token);
      const special = others.length > 0 ? `; also in CLS/register token${others.length > 1 ? 's' : ''} ${esc(others.join(', '))}` : '';
      out.push(
        `<figure><img src="${esc(t.dataUri)}" alt="${esc(t.image.path)}" width="256"><figcaption><code>${esc(t.image.path)}</code><br>` +
          `max |a| ${fmt(t.image.maxAbs)} at layer ${esc(c.layer)}, dim ${esc(c.dim)}, token ${esc(c.token)} (${at})${special}</figcaption></figure>`,
      );
    }
    out.push('</div>');
  }
  return out.join('\n');
}

function viewSection(view: FeatureTokenView | undefined, svg: string | undefined): string {
  const out = ['<h2 id="feature-token">Feature × token</h2>'];
  if (!view || !svg) {
    out.push('<p class="empty">Not captured: this view needs the model and is recorded by <code>massivit scan</code> (views/feature-token.json). Re-run the scan to add it.</p>');
    return out.join('\n');
  }
  const why = { massive: 'the first layer with massive activations', 'near-miss': 'the first layer with near-misses', 'last layer': 'the last layer', chosen: 'chosen with massivit report --layer/--image' }[view.reason];
  const which = view.reason === 'chosen' ? '' : ', the image with the largest top-1 |a| at that layer';
  out.push(`<p>One image's whole hidden state at layer ${esc(view.layer)} (${esc(why)}): <code>${esc(view.image)}</code>${which}. A few tokens and dims stand orders of magnitude above the rest.</p>`);
  out.push(chartFigure('feature-token-bars', 'Grouped bars: |a| of the massive/near-miss dims (and the next largest dims) in the CLS, register and strongest patch tokens, plus two typical patches, against the median |a| of the layer (log scale).', true));
  out.push(`<figure class="svg">${svg}<figcaption>Heatmap of log |a| over all tokens (rows) and dims (columns), max-pooled; the three strongest tokens are marked at the right.</figcaption></figure>`);
  return out.join('\n');
}

export async function writeScanReport(scanDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const dir = resolve(scanDir);
  const scan = readScanJson(dir);
  const notes: string[] = [];
  const db = openStoreReadOnly(dir);
  let where: WhereData;
  try {
    where = await whereData(db, scan, notes, opts.imagesRoot && resolve(opts.imagesRoot));
  } finally {
    db?.close();
  }
  const view = readView(dir);
  // The new analyses (norms, attention, interventions) come first: an explicit --intervene that does not fit fails here, before any write.
  const parts: ReportPart[] = [normsPart(scan), attentionPart(scan), intervenePart(findIntervention(dir, scan, notes, opts.intervene)), biasPart(findBias(dir, scan, notes))];
  const charts: Record<string, ChartConfig> = { 'layer-curves': layerCurvesChart(scan) };
  const svgs: Record<string, string> = {};
  if (view) {
    charts['feature-token-bars'] = featureTokenChart(view, scan);
    svgs['feature-token-heatmap'] = await featureTokenSvg(view, scan);
  }
  if (where.kind && where.grid.flat().some((n) => n > 0)) {
    svgs['patch-positions'] = positionHeatmapSvg(where.grid, scan, where.kind === 'massive' ? 'massive activation' : 'near-miss');
  }
  for (const p of parts) {
    Object.assign(charts, p.charts);
    Object.assign(svgs, p.svgs);
    notes.push(...(p.notes ?? []));
  }
  const variants = Object.assign({}, ...parts.map((p) => p.variants ?? {}));
  const figureCharts = Object.assign({ ...charts }, ...parts.map((p) => p.figureCharts ?? {}));
  const body = [
    `<h1>Massive activations in ${esc(scan.model.name)}</h1>`,
    `<p class="lede">A massivit scan report: where a Vision Transformer's residual stream holds a few activations orders of magnitude larger than the rest (Sun et al. 2024).</p>`,
    syntheticBanner(scan),
    `<p class="headline">${esc(headline(scan))}</p>`,
    '<dl class="facts">',
    `<dt>Model</dt><dd>${esc(scan.model.name)} — family <code>${esc(scan.model.family)}</code>, ${esc(scan.model.numLayers)} blocks, hidden size ${esc(scan.model.hiddenSize)}, ${esc(scan.model.numHeads)} heads, ${esc(scan.model.precision)}</dd>`,
    `<dt>Token layout</dt><dd>${esc(layoutText(scan))}</dd>`,
    `<dt>Input</dt><dd>${esc(scan.model.inputSize[0])} × ${esc(scan.model.inputSize[1])} px</dd>`,
    `<dt>Images</dt><dd>${esc(scan.images.scanned)} scanned, ${esc(scan.images.failed)} failed${scan.shard ? ` (shards ${esc(scan.shard.map((s) => `${s.index}/${s.count}`).join(', '))})` : ''}</dd>`,
    `<dt>Thresholds</dt><dd>${esc(criteriaText(scan))}</dd>`,
    `<dt>Model sha256</dt><dd><code>${esc(scan.model.sha256)}</code></dd>`,
    '</dl>',
    errorList(scan),
    warningList(scan),
    nonFiniteSection(scan),
    '<h2 id="layers">Layer-wise magnitudes</h2>',
    '<p>Mean over images of the three largest |a| and of the median |a| of each layer\'s hidden state. Dashed: the massive criterion (an absolute floor and a multiple of the median); dotted: the near-miss band.</p>',
    chartFigure('layer-curves', 'The paper\'s figure: top-1/2/3 and median |a| per layer, log scale.'),
    viewSection(view, svgs['feature-token-heatmap']),
    '<h2 id="massive">Massive activations</h2>',
    '<p>Grouped by layer, dim and token role; click a column to sort. <em>images</em>: how many images hold it; <em>token</em>: the most frequent token of the group.</p>',
    groupTable('massive-table', scan.massive, 'No activation meets the massive criterion.'),
    '<h3 id="near-misses">Near-misses</h3>',
    '<p>Cells that reach the near-miss band but not the criterion: what a slightly looser threshold would call massive.</p>',
    groupTable('near-table', scan.nearMisses, 'No near-misses.'),
    whereSection(where, svgs['patch-positions']),
    ...parts.map((p) => p.html),
    notes.length > 0 ? `<h3>Notes</h3><ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '',
    footer(scan, opts.now ?? new Date()),
  ].join('\n');
  const html = resolve(opts.html ?? join(dir, REPORT_FILE));
  ensureOutputDir(dirname(html));
  writeFileAtomic(html, renderPage({ title: `massivit: ${scan.model.name}`, body, data: { charts, variants } }));
  const result: ReportResult = { html, notes };
  if (opts.figures !== false) {
    result.figures = await writeFigures(resolve(opts.figures ?? join(dir, FIGURES_DIR)), figureCharts, svgs, opts.loadCanvas);
  }
  return result;
}
