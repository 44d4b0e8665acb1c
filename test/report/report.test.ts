/**
 * Single-scan reports and comparisons, end to end on the synthetic demo pair (planted massive activations:
 * synthetic-dinov2 in patch token 11, dims 24/51; synthetic-dinov2-reg in register token 3, dims 7/41; both
 * from layer 3). Real ONNX Runtime, sharp, SQLite and @napi-rs/canvas; the CLI is the built one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeComparison, writeScanReport } from '../../src/pipelines/report.js';
import { readView } from '../../src/outputs/view-json.js';
import { CLI, tempDir } from '../helpers/env.js';
import { embeddedCharts, read, scanWith, someImages, SYNTHETIC, SYNTHETIC_REG, type Scanned } from '../helpers/report-scans.js';

const planted = (model: string) => JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).massivit_planted as { fromLayer: number; token: number; dims: number[] };

let work: string;
let images: string;
let plain: Scanned;
let reg: Scanned;

beforeAll(async () => {
  work = tempDir('report');
  images = someImages(join(work, 'images'));
  plain = await scanWith(SYNTHETIC, images, join(work, 'plain'));
  reg = await scanWith(SYNTHETIC_REG, images, join(work, 'reg'));
});

describe('scan writes the single-scan report', () => {
  it('writes report.html, the feature × token view and print-resolution PNG figures, without notices', async () => {
    expect(plain.notices).toEqual([]);
    for (const s of [plain, reg]) {
      expect(existsSync(join(s.outDir, 'report.html'))).toBe(true);
      expect(existsSync(join(s.outDir, 'views', 'feature-token.json'))).toBe(true);
    }
    for (const f of ['layer-curves', 'feature-token-bars']) {
      const meta = await sharp(join(plain.outDir, 'figures', `${f}.png`)).metadata();
      expect([meta.width, meta.height]).toEqual([1600, 1000]);
    }
    const heatmap = await sharp(join(plain.outDir, 'figures', 'feature-token-heatmap.png')).metadata();
    expect(heatmap.width).toBeGreaterThanOrEqual(1600);
    expect(existsSync(join(plain.outDir, 'figures', 'patch-positions.png'))).toBe(true);
    // Register-only massive activations: no patch position to map, so no patch heatmap.
    expect(existsSync(join(reg.outDir, 'figures', 'patch-positions.png'))).toBe(false);
  });

  it('captures the view at the emergence layer, with the planted token and dims on top', () => {
    const p = planted(SYNTHETIC_REG);
    const view = readView(reg.outDir)!;
    expect(view.layer).toBe(p.fromLayer);
    expect(view.reason).toBe('massive');
    expect(p.dims).toContain(view.tokenArgmax[p.token]);
    expect(view.topDims.filter((d) => d.flagged).map((d) => d.dim).sort((a, b) => a - b)).toEqual(p.dims);
    const strongest = view.tokenMax.indexOf(Math.max(...view.tokenMax));
    expect(strongest).toBe(p.token);
    expect(view.tokenMax[p.token] / view.median).toBeGreaterThan(1000);
  });

  it('shows the layer curves with the criterion, the tables and the summary header', () => {
    const html = read(join(reg.outDir, 'report.html'));
    const charts = embeddedCharts(html);
    const curves = charts['layer-curves'].data.datasets.map((d) => d.label);
    expect(curves).toEqual(expect.arrayContaining(['top-1 |a|', 'top-2 |a|', 'top-3 |a|', 'median |a|', 'criterion: |a| > 100', 'criterion: 1000 × median']));
    expect(charts['layer-curves'].data.labels).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(html).toContain('<table class="sortable" id="massive-table">');
    expect(html).toMatch(/<td data-sort="3">3<\/td><td data-sort="7">7<\/td><td data-sort="register">/);
    expect(html).toContain('SYNTHETIC model');
    expect(html).toContain('CLS at 0, registers 1–4, patches 5–200 (14 × 14 of 16 px); 201 tokens');
    expect(html).toContain('3 scanned, 0 failed');
    expect(html).toContain('No patch token holds a massive activation');
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(3);
  });

  it('places the planted patch token on the patch grid and outlines it on the thumbnails', () => {
    const html = read(join(plain.outDir, 'report.html'));
    const p = planted(SYNTHETIC);
    const [row, col] = [Math.floor((p.token - 1) / 14), (p.token - 1) % 14];
    expect(html).toContain(`<title>row ${row}, col ${col}: 3 images</title>`);
    expect(html.match(/: 3 images<\/title>/g)).toHaveLength(1);
    expect(html).toContain(`token ${p.token} (patch r${row}, c${col})`);
  });
});

describe('massivit report <out>', () => {
  it('re-creates the report from the scan folder alone (no model) and notes photos that moved', () => {
    const copy = join(work, 'copy');
    cpSync(reg.outDir, copy, { recursive: true });
    rmSync(join(copy, 'report.html'));
    rmSync(join(copy, 'figures'), { recursive: true });
    const moved = join(work, 'images-moved');
    cpSync(images, moved, { recursive: true });
    rmSync(images, { recursive: true }); // photos gone: thumbnails must be skipped with a note
    try {
      const r = spawnSync('node', [CLI, 'report', copy], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('3 of 3 thumbnails skipped: photo not found');
      const html = read(join(copy, 'report.html'));
      expect(html).toContain('Feature × token');
      expect(html).toContain('id="feature-token-bars"');
      expect(html).not.toContain('data:image/jpeg');
      expect(existsSync(join(copy, 'figures', 'layer-curves.png'))).toBe(true);
    } finally {
      cpSync(moved, images, { recursive: true });
    }
  });

  it('writes the HTML and SVG figures (through sharp), and says why, when @napi-rs/canvas cannot be loaded', async () => {
    const out = join(work, 'no-canvas');
    const result = await writeScanReport(plain.outDir, {
      html: join(out, 'report.html'),
      figures: join(out, 'figures'),
      loadCanvas: () => import('massivit-no-such-package' as string),
    });
    expect(existsSync(result.html)).toBe(true);
    expect(result.figures?.skipped).toMatch(/^@napi-rs\/canvas could not be loaded \(.*massivit-no-such-package.*\); .*npm install @napi-rs\/canvas/);
    expect(result.figures?.written.map((p) => p.split('/').pop()).sort()).toEqual(['feature-token-heatmap.png', 'norm-grid.png', 'patch-positions.png']);
  });

  it('re-records the feature × token view for a chosen layer and image with the scan\'s model', () => {
    const copy = join(work, 'chosen');
    cpSync(reg.outDir, copy, { recursive: true });
    const r = spawnSync('node', [CLI, 'report', copy, '--model', SYNTHETIC_REG, '--layer', '1', '--image', 'coffee.png', '--no-figures'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readView(copy)).toMatchObject({ layer: 1, reason: 'chosen', image: 'coffee.png' });
    expect(read(join(copy, 'report.html'))).toContain('at layer 1 (chosen with massivit report --layer/--image): <code>coffee.png</code>.');
    const wrong = spawnSync('node', [CLI, 'report', copy, '--model', SYNTHETIC, '--layer', '1'], { encoding: 'utf8' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('is not the model this scan was made with');
    const noModel = spawnSync('node', [CLI, 'report', copy, '--image', 'coffee.png'], { encoding: 'utf8' });
    expect(noModel.status).toBe(2);
  });

  it('re-records the default view with the model named as in MASSIVIT_MODELS_DIR, and says why it shows that layer', () => {
    const copy = join(work, 'by-name');
    cpSync(reg.outDir, copy, { recursive: true });
    rmSync(join(copy, 'views'), { recursive: true });
    const env = { ...process.env, MASSIVIT_MODELS_DIR: dirname(SYNTHETIC_REG) };
    const r = spawnSync('node', [CLI, 'report', copy, '--model', basename(SYNTHETIC_REG), '--no-figures'], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    // No --layer / --image: the scan's own choice, labelled as such (not "chosen").
    expect(readView(copy)).toMatchObject({ layer: planted(SYNTHETIC_REG).fromLayer, reason: 'massive', image: readView(reg.outDir)!.image });
  });

  it('exits 2 with a clear message for a folder that is not a scan', () => {
    const r = spawnSync('node', [CLI, 'report', work], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('holds no scan.json: not a finished scan folder');
  });
});

describe('a failing report never fails the scan', () => {
  it('warns through onNotice and still returns the summary', async () => {
    const out = join(work, 'blocked');
    await scanWith(SYNTHETIC, images, out, { report: false });
    writeFileSync(join(out, 'figures'), 'a file where the figures folder should go');
    mkdirSync(join(out, 'report.html'), { recursive: true }); // and a folder where the HTML goes
    const again = await scanWith(SYNTHETIC, images, out);
    expect(again.summary.images.scanned).toBe(3);
    expect(again.notices.join('\n')).toMatch(/report not written: .*retry with `massivit report /);
  });
});

describe('massivit compare', () => {
  let html: string;
  let out: string;
  beforeAll(() => {
    out = join(work, 'compare');
    const stderr = execFileSync('node', [CLI, 'compare', plain.outDir, reg.outDir, '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(stderr).toBe('');
    html = read(join(out, 'compare.html'));
  });

  it('counts massive activations by token role: patch without registers, register with them', () => {
    const roles = embeddedCharts(html)['compare-roles'];
    expect(roles.data.labels).toEqual(['CLS', 'register', 'patch']);
    const [a, b] = roles.data.datasets;
    // 3 images × layers 3–6 × 2 dims = 24 cells each.
    expect([a.label, a.data]).toEqual(['synthetic-dinov2', [0, 0, 24]]);
    expect([b.label, b.data]).toEqual(['synthetic-dinov2-reg', [0, 24, 0]]);
    expect(html).toMatch(/synthetic-dinov2<\/strong> \(dinov2, no registers, SYNTHETIC\): massive activations mostly in <span class="role-patch">patch<\/span> tokens \(100% of cells\), layers 3–6 of 6/);
    expect(html).toMatch(/synthetic-dinov2-reg<\/strong> \(dinov2_with_registers, 4 registers, SYNTHETIC\): massive activations mostly in <span class="role-register">register<\/span>/);
  });

  it('overlays the layer curves, shows emergence, links the single reports and writes PNG figures', async () => {
    const charts = embeddedCharts(html);
    expect(charts['compare-layer-curves'].data.datasets.map((d) => d.label)).toEqual(expect.arrayContaining(['synthetic-dinov2: top-1 |a|', 'synthetic-dinov2-reg: top-1 |a|']));
    expect(charts['compare-layer-curves-normalised']).toBeUndefined(); // same depth: layers line up already
    expect(charts['compare-emergence'].data.datasets[0].data).toEqual([[0.5, 1], [0.5, 1]]);
    expect(html).toContain('href="../plain/report.html"');
    for (const f of ['compare-layer-curves', 'compare-roles', 'compare-emergence']) {
      expect((await sharp(join(out, 'figures', `${f}.png`)).metadata()).width).toBe(1600);
    }
  });

  it('adds normalised depth for models of different depth and tells apart two scans of one model', async () => {
    const vitLike = join(work, 'plain-again');
    cpSync(plain.outDir, vitLike, { recursive: true });
    const scan = JSON.parse(read(join(vitLike, 'scan.json')));
    scan.model.numLayers = 12; // pretend a deeper model: only the depth normalisation reads it
    writeFileSync(join(vitLike, 'scan.json'), JSON.stringify(scan));
    const r = await writeComparison([plain.outDir, vitLike], { out: join(work, 'compare-depth'), figures: false });
    const charts = embeddedCharts(read(r.html));
    const names = charts['compare-roles'].data.datasets.map((d) => d.label);
    expect(names).toEqual(['synthetic-dinov2 [plain]', 'synthetic-dinov2 [plain-again]']);
    const normalised = charts['compare-layer-curves-normalised'].data.datasets[2].data as { x: number }[];
    expect(normalised.map((p) => p.x)).toEqual([0, 1 / 12, 2 / 12, 3 / 12, 4 / 12, 5 / 12, 6 / 12].map((x) => Number(x.toFixed(4))));
  });

  it('exits 2 for a folder that is not a scan', () => {
    const r = spawnSync('node', [CLI, 'compare', plain.outDir, images, '--out', join(work, 'bad')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('holds no scan.json');
  });
});
