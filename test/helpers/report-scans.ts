/** Small real scans for the report tests: the synthetic demo pair on a few bundled photos. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportAfterScan } from '../../src/pipelines/report.js';
import { scan, type ScanOptions, type ScanResult } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES } from './env.js';

export const SYNTHETIC = fixtureModel('synthetic-dinov2');
export const SYNTHETIC_REG = fixtureModel('synthetic-dinov2-reg');

/** Names that would run script if a report put them into HTML unescaped. */
export const HOSTILE_IMAGE = '"><img src=x onerror=alert(1)>.png';
export const HOSTILE_BROKEN = "'><svg onload=alert(2)>.jpg";

/** A folder with `n` bundled photos (sorted by name). */
export function someImages(dir: string, names = ['chelsea.png', 'coffee.png', 'rocket.jpg']): string {
  mkdirSync(dir, { recursive: true });
  for (const n of names) copyFileSync(join(IMAGES, n), join(dir, n));
  return dir;
}

/** Photos plus one photo with a hostile name and one broken file with a hostile name (it lands in the error list). */
export function hostileImages(dir: string): string {
  someImages(dir, ['coffee.png']);
  copyFileSync(join(IMAGES, 'chelsea.png'), join(dir, HOSTILE_IMAGE));
  writeFileSync(join(dir, HOSTILE_BROKEN), 'not an image <script>alert(3)</script>');
  return dir;
}

export interface Scanned extends ScanResult {
  notices: string[];
}

/** A scan and, unless `report: false`, its report: the two stages the CLI chains. */
export async function scanWith(model: string, images: string, out: string, extra: Partial<ScanOptions> & { report?: boolean } = {}): Promise<Scanned> {
  const notices: string[] = [];
  const { report, ...options } = extra;
  const onNotice = (m: string) => notices.push(m);
  const result = await scan({ model, images, out, batch: 4, device: 'cpu', threads: 1, onNotice, view: report !== false, ...options });
  if (report !== false) await reportAfterScan({ outDir: result.outDir, onNotice });
  return { ...result, notices };
}

/** The chart configs a report embeds (its JSON data block). */
export function embeddedCharts(html: string): Record<string, { type: string; data: { labels?: unknown[]; datasets: { label: string; data: unknown[] }[] } }> {
  const m = /<script type="application\/json" id="massivit-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no data block in the report');
  return (JSON.parse(m[1]) as { charts: ReturnType<typeof embeddedCharts> }).charts;
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}
