/**
 * compare.html's "Side by side" section: the maps and histograms of each scan at one common layer and
 * block, next to each other, for the before/after question (does a model with registers — trained or
 * test-time — lose its high-norm patches, and does its CLS attention stop sinking into them?).
 */
import type { ScanJson } from '../outputs/scan-json.js';
import type { ChartConfig } from './charts.js';
import { normFocusLayer, normHistogramChart } from './charts-norms.js';
import { chartFigure, esc } from './html.js';
import type { ReportPart } from './parts.js';
import { clsMapSvg } from './sections-attention.js';
import { normGridSvg } from './sections-norms.js';

interface Compared {
  name: string;
  scan: ScanJson;
}

/** A file-name-safe figure suffix for the n-th model. */
const slot = (i: number) => `model-${i + 1}`;

/** The layer to compare at: the first scan's focus layer, if every scan has it; else the deepest layer they share. */
function commonLayer(entries: Compared[]): number | undefined {
  const sets = entries.map((e) => new Set((e.scan.norms?.layers ?? []).map((l) => l.layer)));
  const focus = normFocusLayer(entries[0].scan);
  if (focus !== null && sets.every((s) => s.has(focus))) return focus;
  const shared = [...sets[0]].filter((l) => sets.every((s) => s.has(l)));
  return shared.length > 0 ? Math.max(...shared) : undefined;
}

/** The block with the largest sink share in the first scan, if every scan tapped it. */
function commonBlock(entries: Compared[]): number | undefined {
  const first = entries[0].scan.attention?.blocks ?? [];
  if (first.length === 0) return undefined;
  const top = first.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x)).block;
  return entries.every((e) => e.scan.attention?.blocks.some((b) => b.block === top)) ? top : undefined;
}

export function sideBySidePart(entries: Compared[]): ReportPart {
  const charts: Record<string, ChartConfig> = {};
  const svgs: Record<string, string> = {};
  const html: string[] = ['<h2 id="side-by-side">Side by side</h2>'];
  const layer = commonLayer(entries);
  if (layer === undefined) html.push('<p class="empty">The scans share no layer with token-norm statistics.</p>');
  else {
    html.push(`<p>Token norms at layer ${esc(layer)} in each scan: the histogram of patch and CLS/register norms, and where the high-norm patches sit.</p>`, '<div class="cols">');
    entries.forEach((e, i) => {
      const id = `compare-norm-histogram-${slot(i)}`;
      charts[id] = normHistogramChart(e.scan, layer);
      html.push(chartFigure(id, `${esc(e.name)}: token L2 norms at layer ${esc(layer)}.`));
    });
    html.push('</div>', '<div class="cols">');
    entries.forEach((e, i) => {
      const l = e.scan.norms!.layers.find((x) => x.layer === layer)!;
      const grid = normGridSvg(e.scan, l);
      if (grid) svgs[`compare-norm-grid-${slot(i)}`] = grid;
      html.push(grid ? `<figure class="svg">${grid}<figcaption>${esc(e.name)}: high-norm patch positions at layer ${esc(layer)}.</figcaption></figure>` : `<p class="empty">${esc(e.name)}: no patch above either norm threshold at layer ${esc(layer)}.</p>`);
    });
    html.push('</div>');
  }
  const block = commonBlock(entries);
  if (block !== undefined) {
    html.push(`<p>CLS attention to each patch at block ${esc(block)} (the first scan's strongest sink block), dataset mean over heads.</p>`, '<div class="cols">');
    entries.forEach((e, i) => {
      const svg = clsMapSvg(e.scan, e.scan.attention!.blocks.find((b) => b.block === block)!);
      svgs[`compare-cls-map-${slot(i)}`] = svg;
      html.push(`<figure class="svg">${svg}<figcaption>${esc(e.name)}: CLS attention at block ${esc(block)}.</figcaption></figure>`);
    });
    html.push('</div>');
  } else if (entries.some((e) => e.scan.attention)) html.push('<p class="empty">CLS attention maps need every scan made with <code>--attention</code>.</p>');
  return { html: html.join('\n'), charts, svgs };
}
