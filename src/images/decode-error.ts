/**
 * Why an image could not be used, in one specific line. libvips messages are multi-line and generic
 * ("libpng read error", "unsupported image format"); the file's first and last bytes usually say more
 * (a text file, a BMP, a PNG cut before IEND), so the reason names the actual problem.
 */
import { MassivitError, errorMessage } from '../contracts/errors.js';

type Sniffed = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'svg' | 'heif' | 'text' | 'unknown';

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The container format from magic bytes (what libvips would try), or text / unknown. */
function sniff(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('GIF8'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('II*\0')) || startsWith(bytes, ascii('MM\0*'))) return 'tiff';
  if (startsWith(bytes, ascii('BM'))) return 'bmp';
  if (startsWith(bytes, ascii('ftyp'), 4)) return 'heif';
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8');
  if (/<svg[\s>]/i.test(head)) return 'svg';
  if (bytes.length > 0 && isText(bytes.subarray(0, 512))) return 'text';
  return 'unknown';
}

function isText(bytes: Uint8Array): boolean {
  let printable = 0;
  for (const b of bytes) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)) printable += 1;
  return printable === bytes.length && !bytes.includes(0);
}

/** True when the file ends before the format's end marker (cut-off download or copy). */
function looksTruncated(bytes: Uint8Array, format: Sniffed): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 4096));
  const has = (seq: number[]) => Buffer.from(tail).includes(Buffer.from(seq));
  if (format === 'jpeg') return !has([0xff, 0xd9]);
  if (format === 'png') return !has(ascii('IEND'));
  if (format === 'gif') return bytes[bytes.length - 1] !== 0x3b;
  if (format === 'webp') return bytes.length < 8 || Buffer.from(bytes).readUInt32LE(4) + 8 > bytes.length;
  return false;
}

const NAMES: Record<Sniffed, string> = {
  jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', tiff: 'TIFF', bmp: 'BMP', svg: 'SVG', heif: 'HEIF/AVIF', text: 'text', unknown: 'unknown',
};

function hexHead(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function badImage(reason: string): MassivitError {
  return new MassivitError('BAD_IMAGE', reason);
}

/** Turns a libvips failure on `bytes` into a specific BAD_IMAGE error. */
export function explainDecodeFailure(err: unknown, bytes: Uint8Array): MassivitError {
  if (err instanceof MassivitError) return err;
  const msg = firstLine(err);
  const format = sniff(bytes);
  if (/pixel limit/i.test(msg)) return badImage(`image too large: ${msg} (decompression-bomb guard, --max-pixels)`);
  if (/coordinates out of range|dimensions too large/i.test(msg)) return badImage(`extreme aspect ratio: the resize before the center crop is too large for libvips (${msg})`);
  if (/unsupported image format/i.test(msg)) {
    if (format === 'text') return badImage('not an image: the file holds text');
    if (format === 'bmp') return badImage('BMP images are not supported by sharp/libvips: convert to PNG');
    if (format === 'unknown') return badImage(`not an image: unrecognised format (first bytes ${hexHead(bytes) || 'none'})`);
  }
  if (format !== 'unknown' && format !== 'text' && looksTruncated(bytes, format)) {
    return badImage(`cannot decode: truncated ${NAMES[format]} (the file ends before the image data does)${msg ? `: ${msg}` : ''}`);
  }
  if (format === 'unknown' || format === 'text') return badImage(`not an image: ${msg || 'unrecognised content'}`);
  return badImage(`cannot decode: corrupt ${NAMES[format]}${msg ? `: ${msg}` : ''}`);
}

/** libvips repeats itself over several lines ("corrupt header:" then the detail): one line, no repeats. */
function firstLine(err: unknown): string {
  const lines = [...new Set(errorMessage(err).split('\n').map((l) => l.trim()).filter((l) => l && !/^unknown error$/i.test(l)))];
  const text = lines.join(' ').replace(/:\s*$/, '');
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

/** The reason recorded for a file: read errors (fs) and decode errors (BAD_IMAGE), one line each. */
export function describeImageError(err: unknown): string {
  if (err instanceof MassivitError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  const msg = firstLine(err);
  if (code === 'EACCES' || /permission denied/i.test(msg)) return 'cannot read file: permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'ENOENT') return 'file disappeared during the scan';
  if (code === 'ERR_FS_FILE_TOO_LARGE') return `file too large to read: ${msg}`;
  if (code === 'EIO') return `cannot read file: input/output error`;
  if (/unsupported image format/i.test(msg)) return 'not an image: unsupported or unrecognised format';
  if (/pixel limit/i.test(msg)) return `image too large: ${msg} (decompression-bomb guard, --max-pixels)`;
  return `cannot decode: ${msg || 'no detail from the decoder'}`;
}
