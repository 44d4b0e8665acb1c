/**
 * Per-image maps from a scan folder: the token-norm map of a layer, or the CLS → patch attention map of a
 * block (scan --attention), as a [rows][cols] grid (CLS and registers dropped) and as a PNG over the photo.
 */
import { writeFileAtomic } from '../contracts/atomic.js';
import { join, resolve } from 'node:path';
import { patchGrid } from '../analyze/norms.js';
import { MassivitError, invalidOption } from '../contracts/errors.js';
import { describeImageError } from '../images/decode-error.js';
import { DEFAULT_LIMITS } from '../images/model-view.js';
import { renderOverlay, type OverlayOptions } from '../images/overlay.js';
import { readStoredImage } from '../images/read.js';
import { loadModel } from '../model/load.js';
import type { PreprocessSpec } from '../model/preprocessor.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import type { Db } from '../store/db.js';
import { imageClsRow, imageNorms } from '../store/queries.js';
import { imagesRoot, maxPixelsOf, openStoreReadOnly, preprocessOf as storedPreprocess } from '../store/reads.js';
import { STORE_FILE } from '../contracts/files.js';

export type MapKind = 'norm' | 'attention';

export interface MapOptions extends OverlayOptions {
  scanDir: string;
  /** Image path relative to the scanned folder, as scan.json and the store name it. */
  image: string;
  /** hidden_states index for 'norm'; block index for 'attention' (the block reading hidden_states[layer]). */
  layer: number;
  kind?: MapKind;
  /** The scanned image folder, when the store does not record it. */
  images?: string;
  /** The model, when the store does not record its preprocessing. */
  model?: string;
  /** Write the PNG here. */
  out?: string;
}

export interface ImageMap {
  kind: MapKind;
  layer: number;
  image: string;
  grid: number[][];
  /** Values of CLS and registers, which the grid leaves out. */
  cls: number;
  registers: number[];
  png?: Buffer;
}

/** The preprocessing recorded in the store's fingerprint, else the model's. */
function preprocessOf(db: Db, model?: string): PreprocessSpec {
  if (model) return loadModel(model).preprocess;
  const p = storedPreprocess(db);
  if (p && typeof p.width === 'number') return p;
  throw new MassivitError('BAD_OPTION', 'The scan store does not record the preprocessing', 'Pass --model <the scanned model>');
}

/** The scanned photo's bytes (raw-bytes path for a non-UTF-8 name); a missing photo is a user error. */
async function readPhoto(root: string, rel: string): Promise<Buffer> {
  try {
    return await readStoredImage(root, rel);
  } catch (err) {
    const photo = join(root, rel);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MassivitError('BAD_OPTION', `The photo ${photo} no longer exists`, 'Pass --images <the scanned folder>');
    throw new MassivitError('BAD_OPTION', `The photo ${photo} cannot be read: ${describeImageError(err)}`);
  }
}

export async function imageMap(opts: MapOptions): Promise<ImageMap> {
  const kind = opts.kind ?? 'norm';
  if (kind !== 'norm' && kind !== 'attention') throw invalidOption('--kind', "'norm' or 'attention'", kind);
  const scanDir = resolve(opts.scanDir);
  const summary = readScanJson(scanDir);
  const t = summary.model.tokens;
  const layout = { ...t, sequenceLength: t.patchStart + t.patchGrid[0] * t.patchGrid[1] };
  const db = openStoreReadOnly(scanDir);
  if (!db) throw new MassivitError('BAD_OPTION', `${scanDir} holds no ${STORE_FILE}: maps need the scan's per-image store`, 'Pass the --out folder of a massivit scan');
  try {
    const max = kind === 'norm' ? summary.model.numLayers : summary.model.numLayers - 1;
    if (!Number.isInteger(opts.layer) || opts.layer < 0 || opts.layer > max) throw invalidOption('--layer', `an integer in 0…${max}`, opts.layer);
    const values = kind === 'norm' ? imageNorms(db, opts.image, opts.layer) : imageClsRow(db, opts.image, opts.layer);
    if (!values) {
      const hint = kind === 'attention' ? 'Attention maps need a scan made with --attention' : 'Use a path relative to the scanned folder, as scan.json lists them';
      throw new MassivitError('BAD_OPTION', `No ${kind} values for image '${opts.image}' at ${kind === 'norm' ? 'layer' : 'block'} ${opts.layer} in ${scanDir}`, hint);
    }
    const map: ImageMap = { kind, layer: opts.layer, image: opts.image, grid: patchGrid(values, layout), cls: values[layout.cls], registers: layout.registers.map((r) => values[r]) };
    if (opts.out) {
      const root = opts.images ?? imagesRoot(db);
      if (!root) throw new MassivitError('BAD_OPTION', 'The scan store does not record the image folder', 'Pass --images <the scanned folder>');
      map.png = await renderOverlay(await readPhoto(root, opts.image), preprocessOf(db, opts.model), map.grid, { ...opts, limits: opts.limits ?? { maxPixels: maxPixelsOf(db) ?? DEFAULT_LIMITS.maxPixels } });
      writeFileAtomic(opts.out, map.png);
    }
    return map;
  } finally {
    db.close();
  }
}
