/**
 * Reads one listed image file. The walk listed only regular files, but the file can be swapped for a pipe or
 * /dev/zero before it is read: opened non-blocking (a FIFO without a writer does not wait), checked on the
 * open handle (no window between check and read), and read to at most its size and a hard cap.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { MassivitError } from '../errors.js';

/** No image format a ViT scan reads comes near this; a larger "image" is refused, not read into memory. */
export const MAX_IMAGE_BYTES = 1024 ** 3;

export async function readImageFile(path: string | Buffer, maxBytes = MAX_IMAGE_BYTES): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new MassivitError('BAD_IMAGE', 'not a regular file (swapped for a pipe or device after listing): not read');
    if (info.size > maxBytes) throw new MassivitError('BAD_IMAGE', `file too large to read: ${info.size} bytes, above the ${maxBytes}-byte limit for one image`);
    // One byte more than the listed size tells a file that is still growing from one that is complete.
    const bytes = Buffer.alloc(info.size + 1);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > info.size) throw new MassivitError('BAD_IMAGE', 'file grew while it was read (still being written?): not read');
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
