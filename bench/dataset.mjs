/**
 * Benchmark image sets: the sample photos in images/ repeated to N files under bench/.tmp (git-ignored).
 * Each copy gets a short trailer after the image's end marker, so every file has its own content hash
 * (the scan does not skip it as already seen) while decoding to exactly the same pixels as the original:
 * decode cost per image is that of the real photos.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;
export const TMP = join(ROOT, 'bench', '.tmp');
const PHOTOS = join(ROOT, 'images');
const EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

export function photos() {
  return readdirSync(PHOTOS)
    .filter((f) => EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(join(PHOTOS, f)) }));
}

/** A folder of exactly `count` distinct image files (reused when already complete). */
export function imageSet(count) {
  const dir = join(TMP, `images-${count}`);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  const src = photos();
  for (let i = 0; i < count; i++) {
    const p = src[i % src.length];
    const sub = join(dir, String(Math.floor(i / 1000)).padStart(2, '0'));
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const trailer = Buffer.from(`massivit-bench-copy-${i}`);
    writeFileSync(join(sub, `${String(i).padStart(5, '0')}-${p.name}`), Buffer.concat([p.bytes, trailer]));
  }
  writeFileSync(marker, '');
  return dir;
}

export function removeImageSet(count) {
  rmSync(join(TMP, `images-${count}`), { recursive: true, force: true });
}
