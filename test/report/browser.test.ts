/**
 * Every report type opened from file:// in real headless Chromium: no console errors, no request beyond
 * the page itself, every chart canvas drawn, a screenshot in test/artifacts/. And hostile file and model
 * names: nothing they contain may execute or become an element.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeComparison } from '../../src/report/index.js';
import { tempDir } from '../helpers/env.js';
import { ARTIFACTS, openBrowser, type Browser, type PageVisit } from './browser.js';
import { HOSTILE_BROKEN, HOSTILE_IMAGE, hostileImages, scanWith, someImages, SYNTHETIC, SYNTHETIC_REG } from './scans.js';

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
    regDir = (await scanWith(SYNTHETIC_REG, images, join(work, 'reg'))).outDir;
  });

  it('single-scan report: draws its charts, makes no request, logs no error', async () => {
    const html = join(plainDir, 'report.html');
    const visit = await browser.visit(html, join(ARTIFACTS, 'report-single.png'));
    expectClean(visit, html, ['layer-curves', 'feature-token-bars']);
    const thumbs = await visit.page.evaluate(() => [...document.querySelectorAll('.thumbs img')].map((i) => (i as HTMLImageElement).naturalWidth));
    expect(thumbs).toEqual([256, 256, 256]);
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
    expectClean(visit, html, ['compare-layer-curves', 'compare-roles', 'compare-emergence']);
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
