/**
 * A small dataset for the scale tests: the sample photos, each in several variants (sizes, crops, formats)
 * so every file has its own content and its own pixels, in a few subfolders, plus one broken file. Small
 * images keep decode cheap; the tiny fixture model (32 px) keeps inference cheap.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { IMAGES } from './env.js';

const PHOTOS = readdirSync(IMAGES).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();

/** One variant of a photo: size, crop offset and format vary with `v`, so contents and pixels differ. */
export async function variant(photo: string, v: number): Promise<{ name: string; bytes: Buffer }> {
  const width = 40 + 7 * v;
  const base = photo.replace(/\.[^.]+$/, '');
  let img = sharp(join(IMAGES, photo)).resize({ width: width + v, height: width }).extract({ left: v, top: 0, width, height: width });
  const png = v % 2 === 0;
  img = png ? img.png() : img.jpeg({ quality: 70 + v });
  return { name: `${base}-v${v}.${png ? 'png' : 'jpg'}`, bytes: await img.toBuffer() };
}

/** Writes photos × variants files into `dir` (subfolders a/, b/, c/ by variant) and one broken file. */
export async function makeDataset(dir: string, variants: number): Promise<number> {
  let count = 0;
  for (let v = 0; v < variants; v++) {
    const sub = join(dir, ['a', 'b', 'c'][v % 3]);
    mkdirSync(sub, { recursive: true });
    for (const photo of PHOTOS) {
      const { name, bytes } = await variant(photo, v);
      writeFileSync(join(sub, name), bytes);
      count++;
    }
  }
  writeFileSync(join(dir, 'b', 'broken.jpg'), Buffer.from('not an image at all'));
  return count + 1;
}
