/**
 * Byte-level image builders for the hostile corpus: real encodes with sharp, then the surgery sharp will
 * not do for us (a float TIFF, a BMP, headers that declare bomb sizes, cut-off files, bad checksums).
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

export const W = 64;
export const H = 48;

/** An asymmetric RGB test pattern: 8×8 flat blocks (JPEG-friendly), distinct per block and per corner. */
export function blockPattern(width = W, height = H): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bx = x >> 3;
      const by = y >> 3;
      const i = (y * width + x) * 3;
      rgb[i] = (40 + bx * 27 + by * 5) % 256;
      rgb[i + 1] = (30 + by * 37 + bx * 3) % 256;
      rgb[i + 2] = bx * by === 0 ? 230 : (200 - bx * 9 - by * 11 + 256) % 256;
    }
  }
  return rgb;
}

export function raw(width = W, height = H, channels: 1 | 2 | 3 | 4 = 3) {
  return { raw: { width, height, channels } } as const;
}

export async function png(rgb = blockPattern(), width = W, height = H): Promise<Buffer> {
  return sharp(rgb, raw(width, height)).png().toBuffer();
}

export async function jpeg(rgb = blockPattern(), width = W, height = H): Promise<Buffer> {
  return sharp(rgb, raw(width, height)).jpeg({ quality: 95 }).toBuffer();
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Rewrites a PNG's IHDR size (with a valid CRC): a few hundred bytes that declare any size. */
export function pngWithSize(file: Buffer, width: number, height: number): Buffer {
  const ihdr = Buffer.from(file.subarray(16, 29));
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  return Buffer.concat([file.subarray(0, 8), pngChunk('IHDR', ihdr), file.subarray(33)]);
}

/** Flips one byte inside the first IDAT's data without fixing its CRC. */
export function pngBadCrc(file: Buffer): Buffer {
  const out = Buffer.from(file);
  const at = out.indexOf('IDAT', 8, 'latin1');
  out[at + 6] ^= 0xff;
  return out;
}

/** Rewrites a baseline/progressive JPEG's SOF size fields. */
export function jpegWithSize(file: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(file);
  for (let i = 2; i < out.length - 9; i++) {
    if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
  }
  throw new Error('no SOF marker');
}

/** A little-endian, one-strip, uncompressed RGB TIFF with 32-bit float samples (SampleFormat 3). */
export function floatTiff(width: number, height: number, samples: Float32Array): Buffer {
  const tags: [number, number, number, number | 'bps' | 'sf' | 'data'][] = [
    [256, 3, 1, width], [257, 3, 1, height], [258, 3, 3, 'bps'], [259, 3, 1, 1], [262, 3, 1, 2],
    [273, 4, 1, 'data'], [277, 3, 1, 3], [278, 3, 1, height], [279, 4, 1, samples.byteLength], [284, 3, 1, 1], [339, 3, 3, 'sf'],
  ];
  const ifd = 8;
  const bps = ifd + 2 + tags.length * 12 + 4;
  const sf = bps + 6;
  const data = sf + 6;
  const b = Buffer.alloc(data + samples.byteLength);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(ifd, 4);
  b.writeUInt16LE(tags.length, ifd);
  tags.forEach(([tag, type, count, value], i) => {
    const o = ifd + 2 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(count, o + 4);
    const v = value === 'bps' ? bps : value === 'sf' ? sf : value === 'data' ? data : value;
    if (type === 3 && typeof value === 'number') b.writeUInt16LE(v, o + 8);
    else b.writeUInt32LE(v, o + 8);
  });
  for (let c = 0; c < 3; c++) {
    b.writeUInt16LE(32, bps + 2 * c);
    b.writeUInt16LE(3, sf + 2 * c);
  }
  Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).copy(b, data);
  return b;
}

/** sRGB 8-bit → linear light, the inverse of what libvips applies to scRGB (float) input. */
export function srgbToLinear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** A 24-bit BMP (sharp's libvips cannot read BMP: it must be a specific error, not a crash). */
export function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * height, 0x80);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(row * height, 34);
  return b;
}

/** Two frames, joined into an animated GIF or WebP; frame 0 is the block pattern. */
export async function animated(format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = [await png(), await png(Buffer.alloc(W * H * 3, 200))];
  const img = sharp(frames, { join: { animated: true } });
  return format === 'gif' ? img.gif().toBuffer() : img.webp({ lossless: true }).toBuffer();
}

/** Deterministic "random" bytes (a fixed LCG), so a failure reproduces. */
export function noise(length: number, seed = 12345): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

type Step = 'flip' | 'flop' | 90 | 180 | 270;

/**
 * Orientation n maps stored → shown; the steps below are its inverse, applied to the upright pixels so
 * that `.rotate()` (EXIF auto-orient) shows the upright image again. Each step is its own sharp
 * pipeline, because sharp applies rotate/flip/flop of one pipeline in a fixed order, not call order.
 */
const INVERSE: Record<number, Step[]> = {
  1: [],
  2: ['flop'],
  3: [180],
  4: ['flip'],
  5: [90, 'flop'],
  6: [270],
  7: [270, 'flop'],
  8: [90],
};

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export async function orientStored(upright: RawImage, n: number): Promise<RawImage> {
  let img = upright;
  for (const step of INVERSE[n]) {
    let s = sharp(img.data, raw(img.width, img.height));
    s = step === 'flip' ? s.flip() : step === 'flop' ? s.flop() : s.rotate(step);
    const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
    img = { data, width: info.width, height: info.height };
  }
  return img;
}
