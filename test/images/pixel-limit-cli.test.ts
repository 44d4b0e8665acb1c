/**
 * The pixel limit is the scan's (--max-pixels, recorded in the store), not a default of each picture:
 * a photo the scan measured above the default limit still gets its thumbnail and its map. Built CLI
 * (`npm run build` first; `npm test` does it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/images/model-view.js';
import { fixtureModel, ROOT, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';
import { pngChunk } from '../helpers/hostile-images.js';

/** The one fixture this file uses (fixture folders may move: change it here only). */
const MODEL = fixtureModel('synthetic-dinov2');

/** A 1-bit grey PNG of `side`² pixels with diagonal stripes: many pixels, few bytes to build. */
function bigPng(side: number): Buffer {
  const stride = Math.ceil(side / 8);
  const rows = Buffer.alloc(side * (1 + stride));
  for (let y = 0; y < side; y++) {
    for (let b = 0; b < stride; b++) rows[y * (1 + stride) + 1 + b] = ((y >> 9) + b) & 64 ? 0xff : 0x00;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
}

const built = existsSync(join(ROOT, 'dist', 'cli', 'index.js'));
if (!built) console.warn('SKIPPING the pixel-limit CLI test: the CLI is not built (run `npm run build`)');

describe.skipIf(!built)('a photo above the default pixel limit, scanned with a higher --max-pixels', () => {
  it('gets its thumbnail and its map, decoded under the scan\'s limit', async () => {
    const work = tempDir('pixel-limit');
    const images = join(work, 'images');
    mkdirSync(images);
    const side = 10_050;
    expect(side * side).toBeGreaterThan(DEFAULT_LIMITS.maxPixels);
    writeFileSync(join(images, 'big.png'), bigPng(side));
    expect((await sharp(join(images, 'big.png')).metadata()).width).toBe(side);
    const scanDir = join(work, 'scan');
    const scan = massivit('scan', '--model', MODEL, '--images', images, '--out', scanDir, '--device', 'cpu', '--threads', '1', '--max-pixels', String(side * side), '--no-report', '--json');
    expect(scan.code, scan.stderr).toBe(0);
    expect(JSON.parse(scan.stdout).images).toMatchObject({ scanned: 1, failed: 0 });

    const report = massivit('report', scanDir, '--no-figures');
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).not.toMatch(/thumbnails skipped/);
    expect(readFileSync(join(scanDir, 'report.html'), 'utf8')).toMatch(/<img src="data:image\/jpeg;base64,[^"]+" alt="big.png"/);

    const out = join(work, 'map.png');
    const map = massivit('map', scanDir, '--image', 'big.png', '--layer', '3', '--out', out);
    expect(map.code, map.stderr).toBe(0);
    expect((await sharp(out).metadata()).width).toBeGreaterThan(0);
  });
});
