/**
 * The one way the tests start Chromium: the Debian build (playwright-core, never a downloaded browser),
 * headless, with a fresh profile. `visit` opens a report from file:// and records what a reader's browser
 * would see: console errors, page errors, dialogs, every request, and how many pixels each canvas has drawn.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, tempDir } from './env.js';

const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

export interface PageVisit {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  /** Every request URL the page made, the page itself included. */
  requests: string[];
  /** canvas id → number of pixels with non-zero alpha. */
  canvasPixels: Record<string, number>;
  page: Page;
}

export interface Browser {
  /** `before` attaches listeners before the page loads (e.g. 'framenavigated'). */
  visit(htmlPath: string, screenshot?: string, before?: (page: Page) => void): Promise<PageVisit>;
  /** A blank page in the same browser, for checks other than `visit`'s. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Why Chromium cannot be started here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed`;
}

export async function openBrowser(): Promise<Browser> {
  const userData = mkdtempSync(join(tempDir('chromium'), 'profile-')); // fresh profile: nothing cached, nothing shared
  const context: BrowserContext = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 900 },
  });
  return {
    newPage: () => context.newPage(),
    async visit(htmlPath, screenshot, before) {
      const page = await context.newPage();
      const visit: PageVisit = { consoleErrors: [], pageErrors: [], dialogs: [], requests: [], canvasPixels: {}, page };
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') visit.consoleErrors.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => visit.pageErrors.push(e.message));
      page.on('dialog', (d) => { visit.dialogs.push(d.message()); void d.dismiss(); });
      page.on('request', (r) => visit.requests.push(r.url()));
      before?.(page);
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
      await page.waitForSelector('html[data-ready="true"]', { timeout: 15_000 });
      visit.canvasPixels = await page.evaluate(() => {
        const out: Record<string, number> = {};
        document.querySelectorAll('canvas').forEach((c, i) => {
          const ctx = c.getContext('2d');
          const data = ctx ? ctx.getImageData(0, 0, c.width, c.height).data : new Uint8ClampedArray();
          let drawn = 0;
          for (let k = 3; k < data.length; k += 4) if (data[k] !== 0) drawn++;
          out[c.id || `canvas-${i}`] = drawn;
        });
        return out;
      });
      if (screenshot) {
        mkdirSync(join(screenshot, '..'), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: true });
      }
      return visit;
    },
    async close() {
      await context.close();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}
