/**
 * The hostile corpus: every kind of broken, odd or malicious file a dataset scan meets, generated at test
 * time into a temp folder (nothing binary is committed, nothing is downloaded). Each case says what the
 * scan must record for it: 'scanned', an error row whose reason matches a pattern, or 'ignored' (not an
 * input at all: a non-image extension, a dotfile, a folder).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import {
  animated, blockPattern, bmp, floatTiff, H, jpeg, jpegWithSize, noise, orientStored, png, pngBadCrc, pngWithSize, raw, srgbToLinear, W,
} from './hostile-images.js';

type Expect = 'scanned' | 'ignored' | RegExp;

export interface HostileCase {
  /** What the case is about (test titles). */
  name: string;
  /** The path the store must hold for it, relative to the corpus root, exactly as scan.json shows it. */
  rel: string;
  expect: Expect;
}

export interface CorpusOptions {
  /** False when the scanning process is root: chmod 000 does not stop root from reading. */
  enforcesPermissions: boolean;
}

export interface Corpus {
  root: string;
  cases: HostileCase[];
  /** Cases that this machine cannot build (e.g. no mkfifo), with why; reported, not silently dropped. */
  skipped: string[];
  /** Undo the chmods so the temp folder can be deleted. */
  restore(): void;
}

/** Names that try to break out of HTML, shells, terminals and paths. All are valid PNGs. */
export const HOSTILE_NAMES = [
  '<img src=x onerror=alert(1)>.png',
  '<script>alert(2)<\\script>.png',
  'a"b\'c.png',
  'x\ny.png',
  'tab\tand\rcr.png',
  '..\\evil.png',
  '..%2f..%2fetc%2fpasswd.png',
  '$(touch pwned) `id`.png',
  '--help.png',
  'esc-\u001b[31mred\u001b[0m.png',
  'rtl-\u202egnp.exe.png',
  '&amp;&lt;entities&gt;.png',
  ' leading and trailing space .png',
];

export async function makeHostileCorpus(root: string, opts: CorpusOptions): Promise<Corpus> {
  const cases: HostileCase[] = [];
  const skipped: string[] = [];
  const chmods: string[] = [];
  const at = (rel: string) => join(root, rel);
  const put = (rel: string, bytes: Buffer, expect: Expect, name = rel) => {
    mkdirSync(dirname(at(rel)), { recursive: true });
    writeFileSync(at(rel), bytes);
    cases.push({ name, rel, expect });
  };
  const okPng = await png();
  const okJpg = await jpeg();
  const rgb = blockPattern();

  // Plain and oddly named but valid images.
  put('ok.png', okPng, 'scanned', 'control PNG');
  put('ok.jpg', okJpg, 'scanned', 'control JPEG');
  put('noext', okPng, 'scanned', 'image with no extension (sniffed)');
  put('png-named.jpg', okPng, 'scanned', 'PNG bytes behind a .jpg extension');
  put('UPPER.JPG', okJpg, 'scanned', 'upper-case extension');
  put('duplicate-of-ok.png', okPng, 'scanned', 'same bytes as another file');
  put('one-pixel.png', await sharp(Buffer.from([9, 99, 199]), raw(1, 1)).png().toBuffer(), 'scanned', '1×1 image');
  put('tall-1x20000.png', await sharp({ create: { width: 1, height: 20000, channels: 3, background: '#4080c0' } }).png().toBuffer(), 'scanned', '1×20000 image');
  put('wide-20000x1.png', await sharp({ create: { width: 20000, height: 1, channels: 3, background: '#c08040' } }).png().toBuffer(), 'scanned', '20000×1 image');
  const u16 = Uint16Array.from(rgb, (v) => v * 257);
  put('rgb16.png', await sharp(u16, raw()).toColourspace('rgb16').png().toBuffer(), 'scanned', '16-bit RGB PNG');
  put('gray16.png', await sharp(Uint16Array.from({ length: W * H }, (_, i) => (i * 997) % 65536), raw(W, H, 1)).toColourspace('grey16').png().toBuffer(), 'scanned', '16-bit grayscale PNG');
  put('cmyk.jpg', await sharp(rgb, raw()).toColourspace('cmyk').jpeg().toBuffer(), 'scanned', 'CMYK JPEG');
  const ga = Buffer.alloc(W * H * 2);
  for (let i = 0; i < W * H; i++) [ga[2 * i], ga[2 * i + 1]] = [i % 251, 255 - (i % 200)];
  put('gray-alpha.png', await sharp(ga, raw(W, H, 2)).toColourspace('b-w').png().toBuffer(), 'scanned', 'grayscale with alpha');
  put('palette.png', await sharp(rgb, raw()).png({ palette: true }).toBuffer(), 'scanned', 'palette PNG');
  put('animated.gif', await animated('gif'), 'scanned', 'animated GIF (first frame)');
  put('animated.webp', await animated('webp'), 'scanned', 'animated WebP (first frame)');
  put('progressive.jpg', await sharp(rgb, raw()).jpeg({ progressive: true }).toBuffer(), 'scanned', 'progressive JPEG');
  put('interlaced.png', await sharp(rgb, raw()).png({ progressive: true }).toBuffer(), 'scanned', 'Adam7-interlaced PNG');
  put('ok.avif', await sharp(rgb, raw()).avif().toBuffer(), 'scanned', 'AVIF');
  put('hdr-float.tif', floatTiff(W, H, Float32Array.from(rgb, srgbToLinear)), 'scanned', 'HDR / float32 TIFF (linear scRGB)');
  const upright = { data: rgb, width: W, height: H };
  for (let n = 1; n <= 8; n++) {
    const s = await orientStored(upright, n);
    put(`exif/orientation-${n}.jpg`, await sharp(s.data, raw(s.width, s.height)).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: n }).toBuffer(), 'scanned', `EXIF orientation ${n}`);
  }
  put('x.png/inner.png', okPng, 'scanned', 'a folder named x.png is walked into');
  mkdirSync(at('empty-folder.jpg'));
  cases.push({ name: 'an empty folder named empty-folder.jpg is not an input', rel: 'empty-folder.jpg', expect: 'ignored' });
  put(`${'a'.repeat(251)}.png`, okPng, 'scanned', '255-byte file name');
  put(`${'猫'.repeat(83)}.png`, okPng, 'scanned', '253-byte UTF-8 file name');
  HOSTILE_NAMES.forEach((n) => put(n, okPng, 'scanned', `hostile name ${JSON.stringify(n)}`));
  put('<img src=x onerror=alert(3)>.jpg', Buffer.from('not an image, but its name is HTML\n'), /^not an image: the file holds text$/, 'failing file with an HTML name');
  put('notes.txt', Buffer.from('a non-image extension'), 'ignored', 'non-image extension');
  put('.hidden', okPng, 'ignored', 'dotfile without extension');

  // Non-UTF-8 names: made with Buffer paths; stored with each invalid byte as \xHH.
  const bytesName = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  try {
    writeFileSync(bytesName(root, '/', [0xff, 0xfe], '-latin1-caf', [0xe9], '.png'), okPng);
    cases.push({ name: 'non-UTF-8 file name', rel: '\\xFF\\xFE-latin1-caf\\xE9.png', expect: 'scanned' });
    mkdirSync(bytesName(root, '/dir-', [0xc3, 0x28]));
    writeFileSync(bytesName(root, '/dir-', [0xc3, 0x28], '/inner.png'), okPng);
    cases.push({ name: 'file inside a non-UTF-8 folder name', rel: 'dir-\\xC3(/inner.png', expect: 'scanned' });
  } catch (err) {
    skipped.push(`non-UTF-8 names: this file system refuses them (${(err as Error).message})`);
  }

  // Broken content.
  put('empty.jpg', Buffer.alloc(0), /^empty file \(0 bytes\)$/, 'zero-byte file');
  put('truncated.jpg', okJpg.subarray(0, Math.floor(okJpg.length * 0.6)), /^cannot decode: truncated JPEG/, 'truncated JPEG');
  put('truncated.png', okPng.subarray(0, Math.floor(okPng.length * 0.6)), /^cannot decode: truncated PNG/, 'truncated PNG');
  const gif = await animated('gif');
  put('truncated.gif', gif.subarray(0, Math.floor(gif.length * 0.5)), /^cannot decode: truncated GIF/, 'truncated GIF');
  const webp = await sharp(rgb, raw()).webp().toBuffer();
  put('truncated.webp', webp.subarray(0, Math.floor(webp.length * 0.5)), /^cannot decode: truncated WebP/, 'truncated WebP');
  put('bad-crc.png', pngBadCrc(okPng), /^cannot decode: corrupt PNG/, 'PNG with a bad CRC');
  put('zero-size.png', pngWithSize(okPng, 0, 0), /^cannot decode: corrupt PNG/, 'PNG declaring 0×0');
  put('random.png', noise(4096), /^not an image: unrecognised format \(first bytes [0-9a-f ]+\)$/, 'random bytes with an image extension');
  put('text.jpg', Buffer.from('This is a text file named like a JPEG.\n'), /^not an image: the file holds text$/, 'text file named .jpg');
  put('image.bmp', bmp(4, 4), /^BMP images are not supported by sharp\/libvips/, 'BMP (libvips cannot read it)');
  put('vector.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><rect width="9" height="9"/></svg>'), /^SVG content is not a raster image/, 'SVG behind a .png extension');
  put('bomb.png', pngWithSize(okPng, 100_000, 100_000), /^image too large: it declares 100000×100000 = 10000000000 pixels, above the pixel limit/, 'PNG decompression bomb (100000×100000 header)');
  put('bomb.jpg', jpegWithSize(okJpg, 65_000, 65_000), /^image too large: it declares 65000×65000/, 'JPEG decompression bomb (65000×65000 header)');

  // Links, special files, permissions.
  symlinkSync('ok.png', at('link-to-ok.png'));
  cases.push({ name: 'symbolic link to an image', rel: 'link-to-ok.png', expect: 'scanned' });
  symlinkSync('does-not-exist.png', at('dangling.jpg'));
  cases.push({ name: 'dangling symbolic link', rel: 'dangling.jpg', expect: /^broken symbolic link/ });
  symlinkSync('does-not-exist.png', at('dangling.txt'));
  cases.push({ name: 'dangling link with a non-image name is not an input', rel: 'dangling.txt', expect: 'ignored' });
  symlinkSync('loop.png', at('loop.png'));
  cases.push({ name: 'symbolic link loop (a link to itself)', rel: 'loop.png', expect: /^symbolic link loop$/ });
  mkdirSync(at('loops'));
  symlinkSync('..', at('loops/back'));
  cases.push({ name: 'folder link loop (a link to an ancestor)', rel: 'loops/back', expect: /^symbolic link loop: links back to a folder that contains it$/ });
  symlinkSync('x.png', at('y-alias-of-x.png')); // sorts after x.png: the first path in walk order is the one scanned
  cases.push({ name: 'second link to a scanned folder', rel: 'y-alias-of-x.png', expect: /^folder already scanned under another path \(symbolic link\)/ });
  symlinkSync('/dev/zero', at('zero.png'));
  cases.push({ name: 'link to /dev/zero (reading would never end)', rel: 'zero.png', expect: /^a character device, not an image file$/ });
  try {
    execFileSync('mkfifo', [at('pipe.png')]);
    cases.push({ name: 'named pipe (reading would block forever)', rel: 'pipe.png', expect: /^a named pipe \(FIFO\), not an image file$/ });
  } catch (err) {
    skipped.push(`named pipe: mkfifo failed (${(err as Error).message.split('\n')[0]})`);
  }
  writeFileSync(at('sparse-3gib.png'), '');
  truncateSync(at('sparse-3gib.png'), 3 * 2 ** 30); // sparse: no disk used
  cases.push({ name: '3 GiB (sparse) file', rel: 'sparse-3gib.png', expect: /^file too large to read/ });
  put('unreadable.png', okPng, opts.enforcesPermissions ? /^cannot read file: permission denied$/ : 'scanned', 'unreadable file (chmod 000)');
  chmodSync(at('unreadable.png'), 0o000);
  mkdirSync(at('locked'));
  writeFileSync(at('locked/inner.png'), okPng);
  chmodSync(at('locked'), 0o000);
  chmods.push(at('locked'), at('unreadable.png'));
  cases.push(
    opts.enforcesPermissions
      ? { name: 'unlistable folder (chmod 000)', rel: 'locked', expect: /^cannot list folder: permission denied$/ }
      : { name: 'unlistable folder (chmod 000): root lists it anyway', rel: 'locked/inner.png', expect: 'scanned' },
  );
  return { root, cases, skipped, restore: () => chmods.forEach((p) => chmodSync(p, 0o755)) };
}
