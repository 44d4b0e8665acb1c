/**
 * Every report type opened from file:// in real headless Chromium: no console errors, no request beyond
 * the page itself, every chart canvas drawn, a screenshot in test/artifacts/. And hostile file and model
 * names: nothing they contain may execute or become an element.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intervene } from '../../src/pipelines/intervene.js';
import { writeComparison, writeScanReport } from '../../src/pipelines/report.js';
import { tempDir } from '../helpers/env.js';
import { ARTIFACTS, openBrowser, type Browser, type PageVisit } from '../helpers/browser.js';
import { HOSTILE_BROKEN, HOSTILE_IMAGE, hostileImages, scanWith, someImages, SYNTHETIC, SYNTHETIC_REG } from '../helpers/report-scans.js';

let browser: Browser;
let work: string;

beforeAll(async () => {
  work = tempDir('report-browser');
  browser = await openBrowser();
});
afterAll(async () => browser?.close());

/** `charts`: canvases the report must have; every canvas it has must have drawn pixels. */
function expectClean(visit: PageVisit, html: string, charts: string[]): void {
  expect(visit.consoleErrors).toEqual([]);
  expect(visit.pageErrors).toEqual([]);
  expect(visit.dialogs).toEqual([]);
  // file:// itself is the one request; anything else (http, https, a second file) is a failure.
  expect(visit.requests).toEqual([pathToFileURL(html).href]);
  expect(Object.keys(visit.canvasPixels)).toEqual(expect.arrayContaining(charts));
  for (const [id, drawn] of Object.entries(visit.canvasPixels)) expect(drawn, `canvas ${id} has drawn pixels`).toBeGreaterThan(5000);
}

describe('reports in headless Chromium', () => {
  let plainDir: string;
  let regDir: string;

  beforeAll(async () => {
    const images = someImages(join(work, 'images'));
    plainDir = (await scanWith(SYNTHETIC, images, join(work, 'plain'))).outDir;
    // With --attention and an intervention in its folder: the report shows all of norms, sinks and interventions.
    regDir = (await scanWith(SYNTHETIC_REG, images, join(work, 'reg'), { attention: true })).outDir;
    await intervene({ model: SYNTHETIC_REG, images, scan: regDir, out: regDir, device: 'cpu', threads: 1 });
    await writeScanReport(regDir, { figures: false });
  });

  it('single-scan report: draws its charts, makes no request, logs no error', async () => {
    const html = join(plainDir, 'report.html');
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-single.png'));
    expectClean(visit, html, ['layer-curves', 'feature-token-bars']);
    const thumbs = await visit.page.evaluate(() => [...document.querySelectorAll('.thumbs img')].map((i) => (i as HTMLImageElement).naturalWidth));
    expect(thumbs).toEqual([256, 256, 256]);
    const text = await visit.page.evaluate(() => document.body.innerText);
    expect(text).toContain('This scan was run without --attention. Run massivit scan --attention');
    expect(text).toContain('No intervention results next to this scan.');
  });

  it('norms, attention sinks and interventions: drawn, the layer selector redraws the histogram, no request, no error', async () => {
    const html = join(regDir, 'report.html');
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-single-analyses.png'));
    expectClean(visit, html, ['layer-curves', 'feature-token-bars', 'norm-histogram', 'norm-shares', 'norm-border', 'sink-layers']);
    const svgTitles = await visit.page.$$eval('#attention ~ figure.svg svg, #norms ~ figure.svg svg', (svgs) => svgs.map((s) => s.querySelector('text')?.textContent));
    expect(svgTitles).toEqual(expect.arrayContaining([
      'synthetic-dinov2-reg: attention to the sink tokens per block and head',
      'synthetic-dinov2-reg: CLS attention to each patch, block 5',
    ]));
    // intervene's default is every mode since issue 15 (zero, mean, noise, shuffle), always with the control.
    expect(await visit.page.$$eval('#intervene-table tbody tr', (rows) => rows.map((r) => r.children[0].textContent))).toEqual([
      'zero: set the cells to 0', 'mean: set the cells to their dataset mean', 'noise: draw each cell from a normal with its dataset mean and sd',
      "shuffle: take the cells' values from another image", 'control: zero as many random ordinary cells',
    ]);
    const histogram = () =>
      visit.page.evaluate(() => {
        const canvas = document.getElementById('norm-histogram') as HTMLCanvasElement;
        const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { options: { plugins: { title: { text: string } } } } } }).Chart.getChart(canvas);
        // Read a copy: a second getImageData on the chart's own canvas makes Chromium warn about readbacks.
        const copy = document.createElement('canvas');
        [copy.width, copy.height] = [canvas.width, canvas.height];
        const ctx = copy.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(canvas, 0, 0);
        const data = ctx.getImageData(0, 0, copy.width, copy.height).data;
        let drawn = 0;
        for (let k = 3; k < data.length; k += 4) if (data[k] !== 0) drawn++;
        return { title: chart.options.plugins.title.text, drawn };
      });
    expect((await histogram()).title).toBe('synthetic-dinov2-reg: token L2 norms at layer 3');
    await visit.page.selectOption('select[data-chart-switch="norm-histogram"]', '0');
    const after = await histogram();
    expect(after.title).toBe('synthetic-dinov2-reg: token L2 norms at layer 0');
    expect(after.drawn).toBeGreaterThan(5000);
    expect([visit.consoleErrors, visit.pageErrors]).toEqual([[], []]);
  });

  it('sorts a table when its header is clicked', async () => {
    const html = join(regDir, 'report.html');
    const visit = await browser.visit(html);
    expectClean(visit, html, ['layer-curves', 'feature-token-bars']);
    const dims = () => visit.page.$$eval('#massive-table tbody tr', (rows) => rows.map((r) => Number(r.children[1].textContent)));
    expect(await dims()).toEqual([7, 41, 7, 41, 7, 41, 7, 41]);
    await visit.page.click('#massive-table th[data-col="1"]');
    expect(await dims()).toEqual([7, 7, 7, 7, 41, 41, 41, 41]);
    await visit.page.click('#massive-table th[data-col="1"]');
    expect(await dims()).toEqual([41, 41, 41, 41, 7, 7, 7, 7]);
  });

  it('comparison report: draws its charts, makes no request, logs no error', async () => {
    const { html } = await writeComparison([plainDir, regDir], { out: join(work, 'compare'), figures: false });
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-compare.png'));
    expectClean(visit, html, ['compare-layer-curves', 'compare-roles', 'compare-emergence', 'compare-norms', 'compare-high-norm', 'compare-sinks']);
  });
});

describe('hostile names', () => {
  it('a photo named like markup, a broken file and a model folder named like markup execute nothing', async () => {
    const images = hostileImages(join(work, 'hostile-images'));
    const model = join(work, 'models', 'm"><img src=x onerror=alert(4)>');
    cpSync(SYNTHETIC, model, { recursive: true });
    const scanned = await scanWith(model, images, join(work, 'hostile'));
    expect(scanned.summary.images.errors.map((e) => e.path)).toEqual([HOSTILE_BROKEN]);
    const other = await scanWith(SYNTHETIC_REG, images, join(work, 'hostile-reg'));
    const compare = await writeComparison([scanned.outDir, other.outDir], { out: join(work, 'hostile-compare'), figures: false });
    for (const [html, shot] of [[join(scanned.outDir, 'report.html'), 'report-hostile.png'], [compare.html, 'report-hostile-compare.png']]) {
      const visit = await browser.visit(html, join(ARTIFACTS, shot));
      expect(visit.dialogs).toEqual([]);
      expect(visit.pageErrors).toEqual([]);
      expect(visit.consoleErrors).toEqual([]);
      expect(visit.requests).toEqual([pathToFileURL(html).href]);
      const found = await visit.page.evaluate(() => ({
        injected: document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').length,
        text: document.body.innerText,
        title: document.title,
      }));
      expect(found.injected).toBe(0);
      expect(found.text).toContain('m"><img src=x onerror=alert(4)>');
      expect(found.title).toContain('m"><img src=x onerror=alert(4)>');
      if (html !== compare.html) {
        expect(found.text).toContain(HOSTILE_IMAGE); // a top image: its caption
        expect(found.text).toContain(HOSTILE_BROKEN); // the error list
      }
    }
  });
});
