/**
 * Capturing the feature × token view: which layer and image it shows (from the scan's store and summary),
 * and one forward pass of that image through a runner that exposes the layer.
 */
import { invalidOption } from '../contracts/errors.js';
import { layerHook } from '../contracts/hooks.js';
import { buildView, type ViewReason } from '../analyze/feature-token.js';
import { preprocessImage } from '../images/preprocess.js';
import { readStoredImage } from '../images/read.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { writeView } from '../outputs/view-json.js';
import type { Runner } from '../run/runner.js';
import type { Db } from '../store/db.js';
import { isScannedImage, strongestImage } from '../store/reads.js';

/**
 * Which layer and image the view shows (null when the scan has no image). By default the emergence layer
 * and the image with the largest top-1 there; `layer` / `image` override either.
 */
export type ViewPick = { layer: number; reason: ViewReason; image: string };

export function pickView(db: Db, scan: ScanJson, choice: { layer?: number; image?: string } = {}): ViewPick | null {
  const m = scan.emergence.firstLayer;
  const n = scan.nearMissEmergence.firstLayer;
  let [layer, reason]: [number, ViewReason] = m !== null ? [m, 'massive'] : n !== null ? [n, 'near-miss'] : [scan.model.numLayers, 'last layer'];
  if (choice.layer !== undefined) {
    if (!Number.isInteger(choice.layer) || choice.layer < 0 || choice.layer > scan.model.numLayers) {
      throw invalidOption('--layer', `an integer from 0 to ${scan.model.numLayers}`, choice.layer);
    }
    [layer, reason] = [choice.layer, 'chosen'];
  }
  if (choice.image !== undefined) {
    if (!isScannedImage(db, choice.image)) throw invalidOption('--image', 'the path of a scanned image, relative to the scanned folder', choice.image);
    return { layer, reason: 'chosen', image: choice.image };
  }
  const best = strongestImage(db, layer);
  return best ? { layer, reason, image: best.path } : null;
}

export interface CaptureOptions {
  /** A runner that exposes the chosen layer: the scan's own (it exposes every layer), or one opened for it. */
  runner: Runner;
  scan: ScanJson;
  db: Db;
  imagesRoot: string;
  outDir: string;
  maxPixels: number;
  /** What the view shows, when the caller chose it already (pickView); by default pickView's own choice. */
  pick?: ViewPick;
}

/** The plan a runner needs for a view of `layer` alone (`massivit report --model … --layer …`). */
export const viewPlan = (layer: number) => ({ expose: [layerHook(layer)] });

/** Runs the chosen image once more and writes views/feature-token.json; returns its path, or null. */
export async function captureView(o: CaptureOptions): Promise<string | null> {
  const pick = o.pick ?? pickView(o.db, o.scan);
  if (!pick) return null;
  const hook = layerHook(pick.layer);
  const bytes = await readStoredImage(o.imagesRoot, pick.image);
  const img = await preprocessImage(bytes, o.runner.spec.preprocess, { maxPixels: o.maxPixels });
  const t = (await o.runner.run([img.pixels], { outputs: [hook] }))[hook];
  const flagged = [...o.scan.massive, ...o.scan.nearMisses].filter((g) => g.layer === pick.layer).map((g) => g.dim);
  const view = buildView(t.data as Float32Array, Number(t.dims[1]), Number(t.dims[2]), o.scan.model.tokens.patchStart, flagged, pick);
  return writeView(o.outDir, view);
}
