/**
 * The report for the real pretrained ViT-Ti/16 on the 17 bundled photos (dim 41 in the four corner patch
 * tokens from layer 8, mostly near-misses under the 1000× criterion), and its comparison with a model of
 * different depth, checked in headless Chromium. Skipped without $MASSIVIT_MODELS_DIR.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeComparison } from '../../src/pipelines/report.js';
import { layoutOf } from '../../src/outputs/scan-json.js';
import { openStoreReadOnly, positionCounts } from '../../src/store/reads.js';
import { readView } from '../../src/outputs/view-json.js';
import { realVitTiny, tempDir } from '../helpers/env.js';
import { SHARED_SCAN_TIMEOUT, sharedVitTinyScan, type SharedScan } from '../helpers/shared-scan.js';
import { ARTIFACTS, openBrowser, type Browser } from '../helpers/browser.js';
import { embeddedCharts, read, scanWith, someImages, SYNTHETIC_REG } from '../helpers/report-scans.js';
import { pathToFileURL } from 'node:url';

const model = realVitTiny();

describe.skipIf(!model)('report for the real ViT-Ti', () => {
  let work: string;
  let vit: SharedScan;
  let browser: Browser;

  beforeAll(async () => {
    work = tempDir('report-vit');
    vit = await sharedVitTinyScan(model!);
    browser = await openBrowser();
  }, SHARED_SCAN_TIMEOUT);
  afterAll(async () => browser?.close());

  it('captures layer 8, where dim 41 first crosses the criterion, in the image with the largest top-1', () => {
    expect(vit.notices).toEqual([]);
    const view = readView(vit.outDir)!;
    expect([view.layer, view.reason]).toEqual([8, 'massive']);
    expect(view.topDims[0]).toMatchObject({ dim: 41, flagged: true });
    const corners = [1, 14, 183, 196];
    const strongest = [...view.tokenMax.keys()].sort((a, b) => view.tokenMax[b] - view.tokenMax[a]).slice(0, 2);
    for (const t of strongest) {
      expect(corners).toContain(t);
      expect(view.tokenArgmax[t]).toBe(41);
    }
  });

  it('places the massive activations in the corner patches only', () => {
    const db = openStoreReadOnly(vit.outDir)!;
    try {
      const grid = positionCounts(db, layoutOf(vit.summary), 'massive');
      const hits = grid.flatMap((row, r) => row.map((n, c) => [r, c, n])).filter(([, , n]) => n > 0);
      for (const [r, c] of hits) expect([0, 13]).toEqual(expect.arrayContaining([r, c]));
      expect(new Set(hits.map(([r, c]) => `${r},${c}`)).size).toBeGreaterThanOrEqual(2);
      // 7 images pass the criterion at layer 8; an image can hold it in two corners.
      expect(hits.reduce((a, [, , n]) => a + n, 0)).toBeGreaterThanOrEqual(7);
    } finally {
      db.close();
    }
    const html = read(join(vit.outDir, 'report.html'));
    expect(html).toContain('Massive activations at layer 8 of 12, in patch tokens (dim 41)');
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(6);
  });

  it('shows the corner patches as high-norm tokens and as attention sinks far above the uniform baseline', () => {
    const corners = [1, 14, 183, 196];
    const a = vit.summary.attention!;
    for (const [token] of a.sinkTokens) expect(corners).toContain(token);
    const top = a.blocks.reduce((x, y) => (y.sinkShare > x.sinkShare ? y : x));
    expect(top.block).toBeGreaterThanOrEqual(8); // sinks appear with the massive activations, not before
    expect(top.sinkShare / top.baseline).toBeGreaterThan(10);
    const grid = vit.summary.norms!.layers.find((l) => l.layer === 8)!.fixed.grid!;
    const hot = grid.flatMap((row, r) => row.map((v, c) => [r, c, v])).filter(([, , v]) => v > 0);
    for (const [r, c] of hot) expect([0, 13]).toEqual(expect.arrayContaining([r, c]));
    const html = read(join(vit.outDir, 'report.html'));
    expect(html).toContain(`Block ${top.block} gives the sink tokens the most attention`);
    expect(html).toContain('<option value="8" selected>layer 8 (the first layer with massive activations)</option>');
  });

  it('opens clean in Chromium', async () => {
    const html = join(vit.outDir, 'report.html');
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-vit-tiny.png'));
    expect([visit.consoleErrors, visit.pageErrors, visit.dialogs]).toEqual([[], [], []]);
    expect(visit.requests).toEqual([pathToFileURL(html).href]);
    expect(visit.canvasPixels['layer-curves']).toBeGreaterThan(5000);
    expect(visit.canvasPixels['feature-token-bars']).toBeGreaterThan(5000);
    for (const id of ['norm-histogram', 'norm-shares', 'norm-border', 'sink-layers']) expect(visit.canvasPixels[id], id).toBeGreaterThan(5000);
  });

  it('compares with a model of different depth on normalised depth, clean in Chromium', async () => {
    const reg = await scanWith(SYNTHETIC_REG, someImages(join(work, 'few')), join(work, 'reg'));
    const { html } = await writeComparison([vit.outDir, reg.outDir], { out: join(work, 'compare'), figures: false });
    const charts = embeddedCharts(read(html));
    expect(charts['compare-layer-curves-normalised']).toBeDefined();
    expect(charts['compare-near-roles'].data.datasets[0].data).toEqual([0, 0, expect.any(Number)]);
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-compare-vit.png'));
    expect([visit.consoleErrors, visit.pageErrors, visit.dialogs]).toEqual([[], [], []]);
    expect(visit.requests).toEqual([pathToFileURL(html).href]);
    for (const id of ['compare-layer-curves', 'compare-layer-curves-normalised', 'compare-roles', 'compare-near-roles', 'compare-emergence']) {
      expect(visit.canvasPixels[id], id).toBeGreaterThan(5000);
    }
  });
});
