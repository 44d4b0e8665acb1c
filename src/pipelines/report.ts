/**
 * The report after a scan (the CLI chains scan → report; the scan already captured the feature × token view
 * with its own session), and re-recording the view for another layer or image (`massivit report --model`).
 * Nothing in reportAfterScan may fail a scan: every problem becomes a notice.
 */
import { resolve } from 'node:path';
import { badModel, errorMessage, invalidOption } from '../contracts/errors.js';
import { DEFAULT_LIMITS } from '../images/model-view.js';
import { loadModel } from '../model/load.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import { describeFigures } from '../report/figures.js';
import { writeScanReport, type ReportResult } from '../report/single.js';
import { openRunner } from '../run/runner.js';
import { imagesRoot, maxPixelsOf, openStoreReadOnly } from '../store/reads.js';
import { captureView, pickView, viewPlan } from './view.js';

export { writeScanReport, type ReportOptions, type ReportResult } from '../report/single.js';
export { writeComparison, type CompareOptions, type CompareResult } from '../report/compare.js';
export { REPORT_FILE, COMPARE_FILE } from '../contracts/files.js';
export { describeFigures, type FigureResult } from '../report/figures.js';

export interface AfterScanOptions {
  outDir: string;
  onNotice?: (message: string) => void;
}

export async function reportAfterScan(o: AfterScanOptions): Promise<ReportResult | undefined> {
  const notice = o.onNotice ?? (() => {});
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
    const pick = pickView(db, scan, { layer: o.layer, image: o.image });
    if (!pick) return null;
    const runner = await openRunner(spec, viewPlan(pick.layer), { device: 'cpu', threads: o.threads ?? 0 });
    try {
      const maxPixels = maxPixelsOf(db) ?? DEFAULT_LIMITS.maxPixels;
      return await captureView({ runner, scan, db, imagesRoot: root, outDir: resolve(scanDir), maxPixels, pick });
    } finally {
      await runner.close();
    }
  } finally {
    db.close();
  }
}
