/**
 * The comparison report: any number of scans side by side (`massivit compare <scanDir...> --out <dir>`),
 * written as <dir>/compare.html + <dir>/figures/compare-*.png. Built for the register question: does a
 * model with registers move its massive activations out of the patch tokens?
 */
import { existsSync } from 'node:fs';
import { ensureOutputDir, writeFileAtomic } from '../contracts/atomic.js';
import { basename, join, relative, resolve } from 'node:path';
import { MassivitError } from '../contracts/errors.js';
import type { TokenRole } from '../model/layout.js';
import {
  compareCurvesChart, compareEmergenceChart, compareNormsChart, compareRolesChart,
  type ChartConfig, type CompareSeries,
} from './charts.js';
import { compareHighNormChart } from './charts-norms.js';
import { compareSinkChart } from './charts-attention.js';
import { sideBySidePart } from './compare-maps.js';
import { writeFigures, type CanvasLoader, type FigureResult } from './figures.js';
import { chartFigure, esc, fmt, renderPage, sortableTable } from './html.js';
import { footer, roleCell } from './sections.js';
import { openStoreReadOnly, roleCounts, type CellKindShown, type RoleCounts } from '../store/reads.js';
import { layoutOf, type ScanJson } from '../outputs/scan-json.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import { nonFiniteLine } from './sections-non-finite.js';

import { COMPARE_FILE } from '../contracts/files.js';
const ROLES: TokenRole[] = ['cls', 'register', 'patch'];

export interface CompareOptions {
  out: string;
  /** Folder for PNG figures (default <out>/figures); false writes none. */
  figures?: string | false;
  loadCanvas?: CanvasLoader;
  now?: Date;
  /** Link each model to its report.html when one exists (default true). */
  links?: boolean;
}

export interface CompareResult {
  html: string;
  figures?: FigureResult;
  notes: string[];
}

interface Entry extends CompareSeries {
  dir: string;
  massive: RoleCounts;
  nearMiss: RoleCounts;
  exact: boolean;
}

function load(dirs: string[], notes: string[]): Entry[] {
  const entries = dirs.map((d) => {
    const dir = resolve(d);
    const scan = readScanJson(dir);
    const db = openStoreReadOnly(dir);
    try {
      if (!db) notes.push(`${d}: no scan.sqlite, role counts estimated from scan.json (images × groups)`);
      const layout = layoutOf(scan);
      const massive = db ? roleCounts(db, layout, 'massive') : roleCountsFromSummary(scan, 'massive');
      const nearMiss = db ? roleCounts(db, layout, 'near-miss') : roleCountsFromSummary(scan, 'near-miss');
      return { dir, scan, name: scan.model.name, massive, nearMiss, exact: !!db };
    } finally {
      db?.close();
    }
  });
  // Two scans of one model (e.g. two image sets) need different labels.
  const seen = new Map<string, number>();
  for (const e of entries) seen.set(e.name, (seen.get(e.name) ?? 0) + 1);
  for (const e of entries) if (seen.get(e.name)! > 1) e.name = `${e.name} [${basename(e.dir)}]`;
  return entries;
}

const total = (c: RoleCounts) => c.cls + c.register + c.patch;
const pct = (n: number, of: number) => (of > 0 ? `${Math.round((100 * n) / of)}%` : '–');
const percent = (share: number) => (share > 0 && share < 0.1 ? `${(100 * share).toFixed(1)}%` : `${Math.round(100 * share)}%`);

/** The role holding most massive cells (or near-misses when there are none), with its share. */
function dominant(e: Entry): { kind: string; role: TokenRole; share: number } | null {
  const [kind, c] = total(e.massive) > 0 ? ['massive activations', e.massive] : total(e.nearMiss) > 0 ? ['near-misses', e.nearMiss] : ['', e.massive];
  if (!kind) return null;
  const role = ROLES.reduce((a, b) => (c[b] > c[a] ? b : a));
  return { kind, role, share: c[role] / total(c) };
}

/** A broken or overflowing model says so beside its line. */
function nonFiniteNote(scan: ScanJson): string {
  const line = nonFiniteLine(scan);
  return line ? ` <strong class="warn">${esc(line)}</strong>` : '';
}

function summaryLine(e: Entry): string {
  const s = e.scan;
  const d = dominant(e);
  const span = (x: { firstLayer: number | null; lastLayer: number | null }) =>
    `layers ${x.firstLayer}–${x.lastLayer} of ${s.model.numLayers} (depth ${fmt(x.firstLayer! / s.model.numLayers, 2)}–${fmt(x.lastLayer! / s.model.numLayers, 2)})`;
  const regs = s.model.tokens.registers.length;
  const who = `<strong>${esc(e.name)}</strong> (${esc(s.model.family)}, ${regs === 0 ? 'no registers' : `${regs} registers`}${s.model.synthetic ? ', SYNTHETIC' : ''})`;
  if (!d) return `${who}: no massive activations and no near-misses.`;
  const where = d.kind === 'massive activations' ? span(s.emergence) : span(s.nearMissEmergence);
  const peak = Math.max(...s.layers.map((l) => l.top1));
  return `${who}: ${esc(d.kind)} mostly in ${roleCell(d.role)} tokens (${percent(d.share)} of cells), ${esc(where)}; peak mean top-1 |a| ${fmt(peak)}.`;
}

function overviewTable(entries: Entry[]): string {
  const headers = ['model', 'family', 'blocks', 'registers', 'images (failed)', 'massive from', 'massive to', 'near-miss from', 'peak top-1 |a|', 'peak ratio to median', 'massive cells CLS / register / patch', 'patch share'];
  const rows = entries.map((e): [string, string | number][] => {
    const s = e.scan;
    const peak = s.layers.reduce((a, b) => (b.top1 > a.top1 ? b : a), s.layers[0]);
    const at = (l: number | null) => (l === null ? ['–', -1] as [string, number] : [`${esc(l)} (${fmt(l / s.model.numLayers, 2)})`, l / s.model.numLayers] as [string, number]);
    const m = total(e.massive);
    return [
      [esc(e.name), e.name],
      [esc(s.model.family), s.model.family],
      [esc(s.model.numLayers), s.model.numLayers],
      [esc(s.model.tokens.registers.length), s.model.tokens.registers.length],
      [`${esc(s.images.scanned)} (${esc(s.images.failed)})`, s.images.scanned],
      at(s.emergence.firstLayer),
      at(s.emergence.lastLayer),
      at(s.nearMissEmergence.firstLayer),
      [peak ? `${fmt(peak.top1)} (layer ${esc(peak.layer)})` : '–', peak?.top1 ?? 0],
      [peak ? `${fmt(peak.top1 / peak.median)}×` : '–', peak ? peak.top1 / peak.median : 0],
      [ROLES.map((r) => e.massive[r]).join(' / '), m],
      [pct(e.massive.patch, m), m > 0 ? e.massive.patch / m : -1],
    ];
  });
  return sortableTable('overview-table', headers, rows, 'No scans.');
}

/** Massive (else near-miss) groups folded over layers: one row per model, dim and role. */
function dimsTable(entries: Entry[]): string {
  const rows: [string, string | number][][] = [];
  for (const e of entries) {
    const kind = e.scan.massive.length > 0 ? 'massive' : 'near-miss';
    const groups = e.scan.massive.length > 0 ? e.scan.massive : e.scan.nearMisses;
    const folded = new Map<string, { dim: number; role: TokenRole; first: number; last: number; images: number; token: number; value: number }>();
    for (const g of groups) {
      const key = `${g.dim}/${g.role}`;
      const f = folded.get(key);
      if (!f) folded.set(key, { dim: g.dim, role: g.role, first: g.layer, last: g.layer, images: g.images, token: g.token, value: g.meanValue });
      else [f.last, f.images] = [Math.max(f.last, g.layer), Math.max(f.images, g.images)];
    }
    for (const f of folded.values()) {
      rows.push([
        [esc(e.name), e.name], [esc(kind), kind], [esc(f.dim), f.dim], [roleCell(f.role), f.role], [esc(f.token), f.token],
        [`${esc(f.first)}–${esc(f.last)}`, f.first], [`${esc(f.images)} / ${esc(e.scan.images.scanned)}`, f.images], [fmt(f.value, 4), f.value],
      ]);
    }
  }
  return sortableTable('dims-table', ['model', 'kind', 'dim', 'role', 'main token', 'layers', 'images (max over layers)', 'mean value (first layer)'], rows, 'No massive activations or near-misses in any scan.');
}

function normsSection(entries: Entry[], charts: Record<string, ChartConfig>, normalised: boolean): string {
  const withNorms = entries.filter((e) => (e.scan.norms?.layers.length ?? 0) > 0);
  const out = ['<h2 id="norms">High-norm tokens</h2>'];
  if (withNorms.length === 0) {
    out.push('<p class="empty">These scans hold no token-norm statistics (scan.json has no <code>norms</code>).</p>');
    return out.join('\n');
  }
  charts['compare-norms'] = compareNormsChart(withNorms);
  out.push('<p>Token L2 norms (Darcet et al. 2024): models without registers tend to grow a few high-norm patch tokens; with registers, the registers carry the large norms instead.</p>');
  out.push(chartFigure('compare-norms', 'Mean L2 norm of patch, CLS and register tokens at each normalised depth (log scale).'));
  charts['compare-high-norm'] = compareHighNormChart(withNorms, normalised);
  const fixed = [...new Set(withNorms.map((e) => fmt(e.scan.norms!.layers[0].fixed.threshold)))].join(' / ');
  out.push(chartFigure('compare-high-norm', `Share of patch tokens above the fixed threshold (${esc(fixed)}, solid) and above each layer's automatic threshold (mean + 3 sd, dashed), per ${normalised ? 'normalised depth' : 'layer'}.`));
  const rows = withNorms.map((e): [string, string | number][] => {
    const l = e.scan.norms!.layers[e.scan.norms!.layers.length - 1];
    const share = (v: number | null) => (v === null ? ['–', -1] as [string, number] : [percent(v), v] as [string, number]);
    return [
      [esc(e.name), e.name], [esc(l.layer), l.layer],
      [fmt(l.meanNorm.cls), l.meanNorm.cls], [fmt(l.meanNorm.registers), l.meanNorm.registers ?? -1], [fmt(l.meanNorm.patches), l.meanNorm.patches],
      [`${fmt(l.fixed.threshold)}: ${percent(l.fixed.share)}`, l.fixed.share], [`${fmt(l.auto.threshold)}: ${percent(l.auto.share)}`, l.auto.share],
      share(l.auto.border), share(l.auto.centre), share(l.auto.cls), share(l.auto.registers),
    ];
  });
  out.push('<h3>At the last layer</h3>');
  out.push(sortableTable('norms-table', ['model', 'layer', 'mean norm CLS', 'registers', 'patches', 'patches above fixed threshold', 'above auto threshold', 'border patches above auto', 'centre patches above auto', 'images with CLS above auto', 'registers above auto'], rows, ''));
  out.push(`<p class="lede">Auto threshold: ${esc(withNorms[0].scan.norms!.autoRule)}.</p>`);
  return out.join('\n');
}

function sinkSection(entries: Entry[], charts: Record<string, ChartConfig>, normalised: boolean): string {
  const out = ['<h2 id="attention">Attention sinks</h2>'];
  const withAttention = entries.filter((e) => (e.scan.attention?.blocks.length ?? 0) > 0);
  const without = entries.filter((e) => !withAttention.includes(e)).map((e) => e.name);
  if (withAttention.length === 0) {
    out.push('<p class="empty">None of these scans ran with <code>--attention</code>. Re-run them with <code>massivit scan --attention</code> to compare how much attention each model gives to its massive-activation tokens.</p>');
    return out.join('\n');
  }
  charts['compare-sinks'] = compareSinkChart(withAttention, normalised);
  out.push('<p>Per image, the sink tokens are those holding a massive or near-miss cell; the sink share is the attention mass (mean over heads and queries) a block gives them. Dashed: what uniform attention would give them (|S| / tokens).</p>');
  out.push(chartFigure('compare-sinks', `Attention to the sink tokens per ${normalised ? 'normalised depth (block / number of blocks)' : 'block'}, one colour per model (log scale).`));
  if (without.length > 0) out.push(`<p class="empty">Without attention data (scanned without <code>--attention</code>): ${esc(without.join(', '))}.</p>`);
  const rows = withAttention.map((e): [string, string | number][] => {
    const a = e.scan.attention!;
    const top = a.blocks.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x));
    const ratio = top.baseline > 0 ? top.sinkShare / top.baseline : null;
    return [
      [esc(e.name), e.name], [esc(a.images), a.images],
      [`${esc(top.block)} (${fmt(top.block / e.scan.model.numLayers, 2)})`, top.block / e.scan.model.numLayers],
      [percent(top.sinkShare), top.sinkShare], [ratio === null ? '–' : `${fmt(ratio)}×`, ratio ?? -1],
      [percent(top.clsShare), top.clsShare], [top.registerShare === null ? '–' : percent(top.registerShare), top.registerShare ?? -1],
    ];
  });
  out.push(sortableTable('sinks-table', ['model', 'images', 'block with the largest sink share (depth)', 'sink share there', '× uniform baseline', 'CLS share there', 'register share there'], rows, ''));
  return out.join('\n');
}

export async function writeComparison(scanDirs: string[], opts: CompareOptions): Promise<CompareResult> {
  if (scanDirs.length === 0) throw new MassivitError('BAD_OPTION', 'compare needs at least one scan folder', 'massivit compare <scanDir...> --out <dir>');
  const notes: string[] = [];
  const entries = load(scanDirs, notes);
  const outDir = resolve(opts.out);
  const html = join(outDir, COMPARE_FILE);
  const charts: Record<string, ChartConfig> = { 'compare-layer-curves': compareCurvesChart(entries, false) };
  const depths = new Set(entries.map((e) => e.scan.model.numLayers));
  if (depths.size > 1) charts['compare-layer-curves-normalised'] = compareCurvesChart(entries, true);
  charts['compare-roles'] = compareRolesChart(entries.map((e) => e.name), entries.map((e) => e.massive), 'Massive activations by token role');
  const anyNear = entries.some((e) => total(e.nearMiss) > 0);
  if (anyNear) charts['compare-near-roles'] = compareRolesChart(entries.map((e) => e.name), entries.map((e) => e.nearMiss), 'Near-misses by token role');
  charts['compare-emergence'] = compareEmergenceChart(entries);
  const norms = normsSection(entries, charts, depths.size > 1);
  const sinks = sinkSection(entries, charts, depths.size > 1);
  const side = sideBySidePart(entries);
  Object.assign(charts, side.charts);
  const links = (opts.links ?? true)
    ? entries.filter((e) => existsSync(join(e.dir, 'report.html'))).map((e) => `<li><a href="${esc(relative(outDir, join(e.dir, 'report.html')).split('\\').join('/'))}">${esc(e.name)}</a></li>`)
    : [];
  const synthetic = entries.filter((e) => e.scan.model.synthetic);
  const title = entries.map((e) => e.name).join(' vs ');
  const body = [
    `<h1>${esc(title)}</h1>`,
    '<p class="lede">A massivit comparison: where each model keeps its massive activations, by layer and by token role (CLS, register, patch).</p>',
    synthetic.length > 0 ? `<p class="banner"><strong>SYNTHETIC</strong>: ${esc(synthetic.map((e) => e.name).join(', '))} ${synthetic.length === 1 ? 'is a' : 'are'} hand-built model${synthetic.length === 1 ? '' : 's'} with planted massive activations, not trained networks.</p>` : '',
    `<ul class="headline">${entries.map((e) => `<li>${summaryLine(e)}${nonFiniteNote(e.scan)}</li>`).join('\n')}</ul>`,
    '<h2 id="overview">Overview</h2>',
    '<p>Layers are hidden-state indices (0 = embeddings, L = output of block L); in brackets, normalised depth = layer / blocks. Role counts are cells (image × layer × token × dim) meeting the massive criterion.</p>',
    overviewTable(entries),
    '<h2 id="layers">Layer-wise magnitudes</h2>',
    chartFigure('compare-layer-curves', 'Mean top-1 |a| (solid) and median |a| (dashed) per layer, one colour per model; dashed grey: the absolute floor of the criterion.'),
    charts['compare-layer-curves-normalised'] ? chartFigure('compare-layer-curves-normalised', 'The same curves against normalised depth, for models of different depth.') : '',
    '<h2 id="roles">By token role</h2>',
    '<div class="cols">',
    chartFigure('compare-roles', 'Cells meeting the massive criterion in CLS, register and patch tokens, per model.'),
    anyNear ? chartFigure('compare-near-roles', 'Near-miss cells by token role, per model.') : '<p class="empty">No near-misses in any scan.</p>',
    '</div>',
    '<h2 id="emergence">Emergence</h2>',
    chartFigure('compare-emergence', 'The span of layers (normalised depth) holding massive activations and near-misses, per model.'),
    '<h3>Massive dims</h3>',
    dimsTable(entries),
    norms,
    sinks,
    side.html,
    links.length > 0 ? `<h2 id="reports">Single-scan reports</h2><ul>${links.join('')}</ul>` : '',
    notes.length > 0 ? `<h3>Notes</h3><ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '',
    footer(entries[0].scan, opts.now ?? new Date()),
  ].join('\n');
  ensureOutputDir(outDir);
  writeFileAtomic(html, renderPage({ title: `massivit: ${title}`, body, data: { charts } }));
  const result: CompareResult = { html, notes };
  if (opts.figures !== false) result.figures = await writeFigures(resolve(opts.figures ?? join(outDir, 'figures')), charts, side.svgs, opts.loadCanvas);
  return result;
}

/** Role counts from scan.json alone (image × group occurrences), for a folder without its store. */
function roleCountsFromSummary(scan: ScanJson, kind: CellKindShown): RoleCounts {
  const counts: RoleCounts = { cls: 0, register: 0, patch: 0 };
  for (const g of kind === 'massive' ? scan.massive : scan.nearMisses) counts[g.role] += g.images;
  return counts;
}
