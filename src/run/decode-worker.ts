/** Worker side of run/decode.ts: decodes the files it is sent, many at a time, and returns the tensors. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImageEntry } from '../images/walk.js';
import { contentLookup, decodeFile, type DecodeOptions } from './decode.js';

const options = workerData as DecodeOptions;
const lookup = await contentLookup(options);

parentPort!.on('message', async ({ id, entry }: { id: number; entry: ImageEntry }) => {
  if (typeof entry.file !== 'string') entry.file = Buffer.from(entry.file); // structured clone gives a plain Uint8Array
  const decoded = await decodeFile(entry, options, lookup.known);
  parentPort!.postMessage({ id, decoded }, decoded.status === 'ok' ? [decoded.pixels.buffer as ArrayBuffer] : []);
});
