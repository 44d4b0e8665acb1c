/**
 * The image folder a store was scanned from (meta `imagesRoot`, its real path). A resume from another
 * folder would mix two datasets, or — with a mistyped or unmounted --images — find nothing and make the
 * earlier results look deleted; both are refused before any work. Real paths are compared, so a symlink
 * to the same folder is the same root. Stores written before the root was recorded resume as before.
 */
import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { MassivitError } from '../contracts/errors.js';

export const IMAGES_ROOT_KEY = 'imagesRoot';

/** The real path of a folder, or its absolute path when it does not exist (yet). */
export function realFolder(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

/** Two recorded or given image roots name the same folder. */
export function sameRoot(a: string, b: string): boolean {
  return a === b || realFolder(a) === realFolder(b);
}

/** --images equal to or inside --out would scan (or, skipping it, find nothing but) the scan's own output. */
export function assertImagesOutsideOut(images: string, out: string): void {
  const [img, dir] = [realFolder(images), realFolder(out)];
  if (img === dir || img.startsWith(dir + sep)) {
    throw new MassivitError('BAD_OPTION', `--images ${images} is ${img === dir ? 'the same folder as' : 'inside'} --out ${out}: refusing to scan the scan's own output`, 'Pass the folder of the photos as --images and a separate folder as --out');
  }
}

/** Refuses a resume whose --images is another folder than the one the store was scanned from. */
export function assertSameImagesRoot(recorded: string | undefined, images: string, out: string): void {
  if (recorded === undefined || sameRoot(recorded, images)) return;
  throw new MassivitError(
    'BAD_OUTPUT',
    `--out ${out} holds a scan of ${recorded}, not of --images ${images} (${realFolder(images)}): refusing to mix or drop its results`,
    `Pass --images ${recorded} to resume that scan, or use a new --out folder for this one`,
  );
}
