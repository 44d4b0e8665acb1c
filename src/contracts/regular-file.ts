/**
 * Reading a file that a user or a downloaded folder names: only a regular file (never a FIFO, a device or
 * a folder, which would block, never end or fail obscurely), and never more than `maxBytes`. The checks run
 * on the opened descriptor, so a file swapped between a check and the read cannot slip through.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

class NotRegularFileError extends Error {}

/** What a path is, in words a message can use. */
export function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFile()) return 'a file';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws NotRegularFileError (with a message naming `what`) unless `path` is a regular file of at most `maxBytes`. */
export function readRegularFile(path: string | Buffer, maxBytes: number, what: string): Buffer {
  const pre = statSync(path); // a FIFO must not even be opened: open() would block until a writer appears
  if (!pre.isFile()) throw new NotRegularFileError(`${what} is ${fileKind(pre)}, not a regular file`);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(`${what} is ${fileKind(st)}, not a regular file`);
    if (st.size > maxBytes) throw new NotRegularFileError(`${what} is ${st.size} bytes, more than the ${maxBytes} allowed`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
