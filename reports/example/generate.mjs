#!/usr/bin/env node
/**
 * Regenerates this folder: the example reports for the README, from the SYNTHETIC demo pair (the same
 * models and images as `massivit demo` without a real model). Run from the repository root after
 * `npm run build`:  node reports/example/generate.mjs
 * Writes compare.html, synthetic-dinov2-reg.html (with attention sinks, and an intervention run into the scan
 * folder) and screenshot.png (the top of the comparison, in Debian's Chromium via playwright-core).
 * Scratch scans go to test/.tmp/example-scans (git-ignored).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { intervene, scan, writeComparison, writeScanReport } from '../../dist/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const scratch = join(ROOT, 'test', '.tmp', 'example-scans');
rmSync(scratch, { recursive: true, force: true });

const scans = [];
for (const name of ['synthetic-dinov2', 'synthetic-dinov2-reg']) {
  const out = join(scratch, name);
  const model = join(ROOT, 'test', 'fixtures', 'models', name);
  // A scan writes its own report and, while the model is loaded, the feature × token view the copies below use.
  await scan({ model, images: join(ROOT, 'images'), out, device: 'cpu', attention: true, onNotice: (m) => console.error(m) });
  scans.push(out);
}
// The intervention lands in the scan folder, where the report finds it (like `massivit intervene --scan d --out d`).
await intervene({ model: join(ROOT, 'test', 'fixtures', 'models', 'synthetic-dinov2-reg'), images: join(ROOT, 'images'), scan: scans[1], out: scans[1], device: 'cpu' });

await writeScanReport(scans[1], { html: join(HERE, 'synthetic-dinov2-reg.html'), figures: false });
const { html } = await writeComparison(scans, { out: HERE, figures: false, links: false });

const profile = mkdtempSync(join(scratch, 'chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  viewport: { width: 1200, height: 1500 },
});
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('html[data-ready="true"]');
  const shot = await page.screenshot({ fullPage: false });
  // Half-size, palette PNG: readable in the README and ≈ 10× smaller than the raw capture.
  writeFileSync(join(HERE, 'screenshot.png'), await sharp(shot).resize(900).png({ palette: true, quality: 90, effort: 10 }).toBuffer());
} finally {
  await context.close();
}
console.error(`example reports written to ${HERE}`);
