/**
 * The norm, attention-sink and intervention sections of the reports, built from real scans of the
 * synthetic demo pair (scan --attention) and a real `intervene` run: every number a table shows is the
 * scan.json / intervene.json number (read back from the cells' sort keys), every chart plots them, and
 * the CLI wires --no-report, report --intervene and intervene's re-render.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { intervene, type InterveneJson } from '../../src/pipelines/intervene.js';
import { writeComparison, writeScanReport } from '../../src/pipelines/report.js';
import { attentionPart } from '../../src/report/sections-attention.js';
import { findIntervention, intervenePart, interventionSentence } from '../../src/report/sections-intervene.js';
import { normsPart } from '../../src/report/sections-norms.js';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { CLI, tempDir } from '../helpers/env.js';
import { embeddedCharts, read, scanWith, someImages, SYNTHETIC, SYNTHETIC_REG, type Scanned } from '../helpers/report-scans.js';

/** The sort keys of a sortable table, one array per row (numbers where the key is numeric). */
function tableKeys(html: string, id: string): (string | number)[][] {
  const table = new RegExp(`<table class="sortable" id="${id}">([\\s\\S]*?)</table>`).exec(html);
  if (!table) throw new Error(`no table ${id}`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table[1])![1];
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1].matchAll(/data-sort="([^"]*)"/g)].map((m) => (m[1] !== '' && Number.isFinite(Number(m[1])) ? Number(m[1]) : m[1])),
  );
}

/** Charts carry 6 significant digits. */
function near(value: number | null | undefined, expected: number): void {
  expect(Math.abs((value ?? NaN) - expected)).toBeLessThanOrEqual(1e-5 * Math.abs(expected));
}

let work: string;
let plain: Scanned;
let reg: Scanned;
let noAttention: Scanned;

beforeAll(async () => {
  work = tempDir('report-analyses');
  const images = someImages(join(work, 'images'));
  plain = await scanWith(SYNTHETIC, images, join(work, 'plain'), { attention: true, report: false });
  reg = await scanWith(SYNTHETIC_REG, images, join(work, 'reg'), { attention: true, report: false });
  noAttention = await scanWith(SYNTHETIC, images, join(work, 'no-attention'), { report: false });
});

describe('Token norms section', () => {
  it('shows every per-layer norm number of scan.json in its table', () => {
    const s = reg.summary;
    const rows = tableKeys(normsPart(s).html, 'norms-layers-table');
    expect(rows).toEqual(s.norms!.layers.map((l) => [
      l.layer, l.meanNorm.cls, l.meanNorm.registers, l.meanNorm.patches, l.patchStd,
      l.fixed.share, l.fixed.images, l.fixed.border, l.fixed.centre, l.fixed.cls, l.fixed.registers,
      l.auto.threshold, l.auto.share, l.auto.images, l.auto.border, l.auto.centre,
    ]));
  });

  it('opens the histogram on the emergence layer, offers every layer, and counts every token', () => {
    const s = plain.summary;
    const part = normsPart(s);
    expect(s.emergence.firstLayer).toBe(3);
    expect(part.html).toContain('<option value="3" selected>layer 3 (the first layer with massive activations)</option>');
    expect(Object.keys(part.variants!['norm-histogram'])).toEqual(s.norms!.layers.map((l) => String(l.layer)));
    for (const l of s.norms!.layers) {
      const chart = part.variants!['norm-histogram'][String(l.layer)];
      const [special, patch, fixed, auto] = chart.data.datasets as { label: string; data: { x: number; y: number | null }[] }[];
      const total = (d: typeof patch) => d.data.reduce((a, p) => a + (p.y ?? 0), 0);
      expect(total(patch)).toBe(l.histogram.patch.reduce((a, b) => a + b, 0));
      expect(total(special)).toBe(l.histogram.special.reduce((a, b) => a + b, 0));
      expect(total(patch) + total(special)).toBe(s.images.scanned * s.model.sequenceLength);
      expect(fixed.data[0].x).toBe(l.fixed.threshold);
      expect(auto.data[0].x).toBe(l.auto.threshold);
    }
    expect(part.charts['norm-histogram']).toBe(part.variants!['norm-histogram']['3']);
    expect(Object.keys(part.figureCharts!)).toEqual(['norm-histogram-layer-6']);
  });

  it('plots the fixed and auto shares per layer, labelled with their thresholds', () => {
    const s = reg.summary;
    const chart = normsPart(s).charts['norm-shares'];
    const [fixed, auto, registers] = chart.data.datasets as { label: string; data: number[] }[];
    expect(fixed.label).toBe('patches above the fixed threshold (150)');
    expect(auto.label).toMatch(/^patches above the auto threshold \(mean \+ 3 sd: [\d.]+–[\d.]+\)$/);
    expect(registers.label).toBe('registers above the fixed threshold (150)');
    s.norms!.layers.forEach((l, i) => {
      near(fixed.data[i], 100 * l.fixed.share);
      near(auto.data[i], 100 * l.auto.share);
      near(registers.data[i], 100 * l.fixed.registers!); // the planted register: 25% from layer 3
    });
    const border = normsPart(s).charts['norm-border'].data.datasets as { data: (number | null)[] }[];
    s.norms!.layers.forEach((l, i) => near(border[2].data[i], 100 * l.auto.border!));
  });

  it('maps the planted high-norm patch at the emergence layer', () => {
    const part = normsPart(plain.summary);
    const grid = plain.summary.norms!.layers[3].fixed.grid!;
    expect(grid[0][10]).toBe(1); // token 11 = row 0, col 10, in every image
    expect(part.svgs['norm-grid']).toContain('<title>row 0, col 10: 100%</title>');
    expect(part.svgs['norm-grid'].match(/: 0%<\/title>/g)).toHaveLength(195);
  });

  it('says how to get norms when the scan has none', () => {
    const { norms: _, ...without } = plain.summary;
    expect(normsPart(without as ScanJson).html).toContain('<code>--no-norms</code>');
  });
});

describe('Attention sinks section', () => {
  it('shows every per-block number of scan.json in its table and every head in its heatmap', () => {
    const s = reg.summary;
    const a = s.attention!;
    const part = attentionPart(s);
    const rows = tableKeys(part.html, 'attention-table');
    expect(rows.map((r) => r.slice(0, 7))).toEqual(a.blocks.map((b) => [
      b.block, b.sinkShare, b.sinkShare / b.baseline, b.baseline, b.clsShare, b.registerShare, 4 * b.tokenBaseline,
    ]));
    for (const b of a.blocks) for (const h of b.heads) expect(part.svgs['sink-heads']).toContain(`<title>block ${b.block}, head ${h.head}: `);
    expect(part.svgs['sink-heads'].match(/<title>block /g)).toHaveLength(a.blocks.length * s.model.numHeads);
    expect(part.html).toContain('Most frequent sink tokens: token 3 (register, 3 images)');
    expect(part.html).toContain(`If attention were uniform, S would get ${(100 / s.model.sequenceLength).toFixed(1)}%`);
  });

  it('plots sink, CLS and register shares per block against their baselines', () => {
    const s = reg.summary;
    const chart = attentionPart(s).charts['sink-layers'];
    const byLabel = Object.fromEntries((chart.data.datasets as { label: string; data: number[] }[]).map((d) => [d.label, d.data]));
    s.attention!.blocks.forEach((b, i) => {
      near(byLabel['sink tokens (massive / near-miss holders)'][i], 100 * b.sinkShare);
      near(byLabel['CLS'][i], 100 * b.clsShare);
      near(byLabel['registers (all)'][i], 100 * b.registerShare!);
      near(byLabel['uniform baseline for the sink tokens (|S| / tokens)'][i], 100 * b.baseline);
    });
    expect(chart.data.labels).toEqual(s.attention!.blocks.map((b) => b.block));
  });

  it('draws the CLS → patch map of the last block, one cell per patch', () => {
    const part = attentionPart(plain.summary);
    const last = plain.summary.attention!.blocks.at(-1)!;
    expect(part.svgs['cls-map']).toContain(`CLS attention to each patch, block ${last.block}`);
    expect(part.svgs['cls-map'].match(/<title>row /g)).toHaveLength(196);
  });

  it('tells how to get sinks when the scan ran without --attention', () => {
    const part = attentionPart(noAttention.summary);
    expect(part.html).toContain('This scan was run without <code>--attention</code>. Run <code>massivit scan --attention</code>');
    expect(Object.keys(part.charts)).toEqual([]);
  });
});

describe('Interventions section', () => {
  let report: InterveneJson;
  beforeAll(async () => {
    ({ report } = await intervene({ model: SYNTHETIC, images: join(work, 'images'), scan: plain.outDir, out: plain.outDir, device: 'cpu', threads: 1 }));
  });

  it('finds <scanDir>/intervene.json and shows each result row with the layer, cells and control', () => {
    const notes: string[] = [];
    const found = findIntervention(plain.outDir, plain.summary, notes);
    expect(found?.json).toEqual(report);
    const html = intervenePart(found).html;
    expect(tableKeys(html, 'intervene-table')).toEqual(report.results.map((r) => [
      r.mode, r.cells, -1, -1, -1, -1, r.cosine.mean, r.cosine.min, -1,
    ]));
    expect(html).toContain('<dt>Layer</dt><dd>3 (<code>blocks.2.hook_resid_post</code>; emergence)</dd>');
    expect(html).toContain('11:24 (r0, c10, mean ');
    expect(html).toContain(`seed 0: ${report.control.list.map((c) => `${c.token}:${c.dim}`)[0]} (`);
    expect(html).toContain(`after zeroing the 2 cells at layer 3, ${report.results[0].cosine.mean.toFixed(4)}`);
  });

  it('reads a classifier result as changed predictions out of N', () => {
    const j: InterveneJson = {
      ...report,
      model: { ...report.model, kind: 'classifier', output: 'logits' },
      images: { used: 17, failed: 0, errors: [] },
      results: [
        { mode: 'zero', cells: 4, top1Agreement: 5 / 17, meanKL: 3.21, maxKL: 6, cosine: { mean: 0.5, min: 0.1 }, knnAccuracy: null },
        { mode: 'mean', cells: 4, top1Agreement: 1, meanKL: 0.0012, maxKL: 0.01, cosine: { mean: 1, min: 1 }, knnAccuracy: null },
        { mode: 'control-zero', cells: 4, top1Agreement: 16 / 17, meanKL: 0.004, maxKL: 0.02, cosine: { mean: 1, min: 1 }, knnAccuracy: null },
      ],
    };
    expect(interventionSentence(j)).toBe(
      'Zeroing the 2 cells at layer 3 changed 12 of 17 top-1 predictions (mean KL 3.21 nats); mean substitution changed 0 (mean KL 0.0012 nats); ' +
        'zeroing 4 random ordinary cells (the control) changed 1 (mean KL 0.004 nats).',
    );
    expect(tableKeys(intervenePart({ json: j, path: 'x' }).html, 'intervene-table')[0].slice(2, 5)).toEqual([5 / 17, 12, 3.21]);
  });

  it('escapes every string of an intervene.json', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    const j = JSON.parse(JSON.stringify(report)) as InterveneJson;
    Object.assign(j, { hook: evil, at: { requested: 'auto', source: evil }, cells: { ...j.cells, source: evil } });
    Object.assign(j.control, { rule: evil, seed: evil });
    Object.assign(j.model, { output: evil });
    Object.assign(j.results[0], { mode: evil, cells: evil });
    const html = intervenePart({ json: j, path: evil }).html;
    expect(html).not.toContain('<img');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('refuses an explicit intervene.json of another model, and notes a foreign one found in the folder', () => {
    const foreign = join(work, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ ...report, model: { ...report.model, name: 'other', sha256: 'f'.repeat(64) } }));
    expect(() => findIntervention(reg.outDir, reg.summary, [], join(plain.outDir, 'intervene.json'))).toThrow(/was made with synthetic-dinov2 .*not with this scan's model/);
    const dir = join(work, 'reg-foreign');
    cpSync(reg.outDir, dir, { recursive: true });
    cpSync(foreign, join(dir, 'intervene.json'));
    const notes: string[] = [];
    expect(findIntervention(dir, reg.summary, notes)).toBeUndefined();
    expect(notes).toEqual(['intervene.json was made with another model (other): interventions not shown']);
    expect(intervenePart(undefined).html).toContain('massivit report &lt;this folder&gt; --intervene &lt;file&gt;');
  });

  it('the full report holds all three sections; `massivit report --intervene` adds one from elsewhere', async () => {
    const r = await writeScanReport(plain.outDir, { figures: false });
    const html = read(r.html);
    for (const id of ['norms', 'attention', 'interventions']) expect(html).toContain(`<h2 id="${id}">`);
    expect(Object.keys(embeddedCharts(html))).toEqual(expect.arrayContaining(['norm-histogram', 'norm-shares', 'norm-border', 'sink-layers']));
    const cli = spawnSync('node', [CLI, 'report', reg.outDir, '--no-figures', '--intervene', join(plain.outDir, 'intervene.json')], { encoding: 'utf8' });
    expect(cli.status).toBe(2); // another model's intervention
    expect(cli.stderr).toContain("not with this scan's model");
  });
});

describe('CLI wiring', () => {
  it('scan --no-report writes scan.json but no report; intervene --scan re-renders that scan\'s report', () => {
    const out = join(work, 'cli-scan');
    const scan = spawnSync('node', [CLI, 'scan', '-m', SYNTHETIC_REG, '-i', join(work, 'images'), '-o', out, '--no-report', '--attention', '--device', 'cpu', '--threads', '1'], { encoding: 'utf8' });
    expect(scan.status, scan.stderr).toBe(0);
    expect(existsSync(join(out, 'scan.json'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    const elsewhere = join(work, 'cli-intervene');
    const run = spawnSync('node', [CLI, 'intervene', '-m', SYNTHETIC_REG, '-i', join(work, 'images'), '--scan', out, '-o', elsewhere, '--device', 'cpu', '--threads', '1'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`report with the intervention → ${join(out, 'report.html')}`);
    const html = read(join(out, 'report.html'));
    expect(html).toContain('<h2 id="interventions">');
    expect(html).toContain(join(elsewhere, 'intervene.json'));
    expect(html).toContain('<table class="sortable" id="attention-table">');
  });
});

describe('comparison', () => {
  it('plots each model\'s sink share and high-norm shares per layer, on normalised depth when depths differ', async () => {
    const deeper = join(work, 'reg-deeper');
    cpSync(reg.outDir, deeper, { recursive: true });
    const s = JSON.parse(readFileSync(join(deeper, 'scan.json'), 'utf8')) as ScanJson;
    s.model.numLayers = 12; // pretend a deeper model: only the depth normalisation reads it
    writeFileSync(join(deeper, 'scan.json'), JSON.stringify(s));
    const same = embeddedCharts(read((await writeComparison([plain.outDir, reg.outDir, noAttention.outDir], { out: join(work, 'cmp'), figures: false })).html));
    const sinks = same['compare-sinks'].data.datasets as { label: string; data: { x: number; y: number }[] }[];
    expect(sinks.map((d) => d.label)).toEqual(['synthetic-dinov2 [plain]: sink share', 'synthetic-dinov2 [plain]: uniform baseline', 'synthetic-dinov2-reg: sink share', 'synthetic-dinov2-reg: uniform baseline']);
    reg.summary.attention!.blocks.forEach((b, i) => {
      expect(sinks[2].data[i].x).toBe(b.block);
      near(sinks[2].data[i].y, 100 * b.sinkShare);
    });
    const high = same['compare-high-norm'].data.datasets as { label: string; data: { x: number; y: number }[] }[];
    expect(high[2].label).toBe('synthetic-dinov2-reg: above fixed (150)');
    reg.summary.norms!.layers.forEach((l, i) => {
      expect(high[2].data[i].x).toBe(l.layer);
      near(high[2].data[i].y, 100 * l.fixed.share);
      near(high[3].data[i].y, 100 * l.auto.share);
    });
    const html = read(join(work, 'cmp', 'compare.html'));
    expect(html).toContain('Without attention data (scanned without <code>--attention</code>): synthetic-dinov2 [no-attention].');
    const deep = embeddedCharts(read((await writeComparison([plain.outDir, deeper], { out: join(work, 'cmp-deep'), figures: false })).html));
    const x = (deep['compare-sinks'].data.datasets[2].data as { x: number }[]).map((p) => p.x);
    expect(x).toEqual(reg.summary.attention!.blocks.map((b) => Number((b.block / 12).toFixed(4))));
  });

  it('puts each model\'s norm histogram, high-norm map and CLS map side by side, and writes them as PNGs', async () => {
    const out = join(work, 'cmp-side');
    const result = await writeComparison([plain.outDir, reg.outDir], { out });
    const html = read(result.html);
    const charts = embeddedCharts(html);
    // The same layer for both: the plain model's focus layer (its emergence layer), with each model's own counts.
    const layer = plain.summary.emergence.firstLayer!;
    expect(html).toContain(`Token norms at layer ${layer} in each scan`);
    for (const [i, s] of [plain, reg].entries()) {
      const c = charts[`compare-norm-histogram-model-${i + 1}`];
      const l = s.summary.norms!.layers.find((x) => x.layer === layer)!;
      const total = l.histogram.patch.reduce((a, b) => a + b, 0);
      // The patch bars are this model's own histogram at that layer (its token count is in the label).
      expect(c.data.datasets[1].label).toBe(`patch tokens (${total.toLocaleString('en-US')})`);
      const shown = (c.data.datasets[1].data as { y: number | null }[]).reduce((a, p) => a + (p.y ?? 0), 0);
      expect(shown).toBeLessThanOrEqual(total);
      expect(shown).toBeGreaterThan(0);
    }
    const block = plain.summary.attention!.blocks.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x)).block;
    expect(html).toContain(`CLS attention to each patch at block ${block}`);
    const pngs = result.figures!.written.map((p) => p.split('/').pop());
    expect(pngs).toEqual(expect.arrayContaining(['compare-cls-map-model-1.png', 'compare-cls-map-model-2.png', 'compare-norm-histogram-model-1.png', 'compare-norm-histogram-model-2.png']));
    // The plain model's planted high-norm patch gives it a map; the register model holds its large norms in a register.
    expect(pngs).toContain('compare-norm-grid-model-1.png');
  });

  it('says so when no scan ran with --attention', async () => {
    const html = read((await writeComparison([noAttention.outDir, noAttention.outDir], { out: join(work, 'cmp-none'), figures: false })).html);
    expect(html).toContain('None of these scans ran with <code>--attention</code>');
  });
});
