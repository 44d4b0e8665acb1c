/**
 * Reports after a scan: capture the feature × token view while the model is at hand, then write
 * report.html and the figures. Nothing here may fail a scan: every problem becomes a notice.
 */
import { resolve } from 'node:path';
import { badModel, errorMessage, invalidOption } from '../errors.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import { describeFigures } from './figures.js';
import type { ScanJson } from './scan-json.js';
import { writeScanReport, type ReportResult } from './single.js';
import { imagesRoot, openStoreReadOnly } from '../store/reads.js';
import { readScanJson } from './scan-json.js';
import { captureFeatureTokenView } from './views.js';

export { writeScanReport, type ReportOptions, type ReportResult } from './single.js';
export { writeComparison, type CompareOptions, type CompareResult } from './compare.js';
export { REPORT_FILE, COMPARE_FILE } from '../contracts/files.js';
export { describeFigures, type FigureResult } from './figures.js';

export interface AfterScanOptions {
  outDir: string;
  spec: ModelSpec;
  summary: ScanJson;
  /** Absolute folder the images were read from (thumbnails, the view's image). */
  imagesRoot: string;
  threads?: number;
  maxPixels?: number;
  onNotice?: (message: string) => void;
}

export async function reportAfterScan(o: AfterScanOptions): Promise<ReportResult | undefined> {
  const notice = o.onNotice ?? (() => {});
  const db = openStoreReadOnly(o.outDir);
  if (db) {
    try {
      await captureFeatureTokenView({ spec: o.spec, scan: o.summary, db, imagesRoot: o.imagesRoot, outDir: o.outDir, threads: o.threads, maxPixels: o.maxPixels });
    } catch (err) {
      notice(`feature × token view skipped: ${errorMessage(err).split('\n')[0]}`);
    } finally {
      db.close();
    }
  }
  try {
    const result = await writeScanReport(o.outDir);
    for (const note of result.notes) notice(`report: ${note}`);
    if (result.figures?.skipped) notice(`report.html written; ${describeFigures(result.figures)}`);
    return result;
  } catch (err) {
    notice(`report not written: ${errorMessage(err).split('\n')[0]} (scan.json is complete; retry with \`massivit report ${o.outDir}\`)`);
    return undefined;
  }
}

export interface RecaptureOptions {
  /** The model the scan was made with (checked by sha256). */
  model: string;
  layer?: number;
  /** Image path relative to the scanned folder. */
  image?: string;
  /** The scanned folder, when the photos moved since the scan. */
  images?: string;
  threads?: number;
}

/** Re-records views/feature-token.json for another layer or image (`massivit report --model … --layer …`). */
export async function recaptureView(scanDir: string, o: RecaptureOptions): Promise<string | null> {
  const scan = readScanJson(scanDir);
  const spec = loadModel(o.model);
  if (spec.sha256 !== scan.model.sha256) {
    throw badModel(`${o.model} is not the model this scan was made with (sha256 ${spec.sha256.slice(0, 12)}…, the scan has ${scan.model.sha256.slice(0, 12)}…)`);
  }
  const db = openStoreReadOnly(scanDir);
  if (!db) throw invalidOption('<scanDir>', 'a scan folder with its scan.sqlite', scanDir);
  try {
    const root = o.images ? resolve(o.images) : imagesRoot(db);
    if (!root) throw invalidOption('--images', 'the folder that was scanned (this scan did not record it)', o.images);
    return await captureFeatureTokenView({ spec, scan, db, imagesRoot: root, outDir: resolve(scanDir), threads: o.threads, layer: o.layer, image: o.image });
  } finally {
    db.close();
  }
}
