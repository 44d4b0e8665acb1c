/**
 * The decode stage of the scan pipeline: read a file, hash its bytes (the store's content key), skip it
 * when that content is already analysed, else decode + preprocess it into the model's input tensor.
 *
 * Why a worker thread: ONNX Runtime's node binding runs a forward pass synchronously on the calling
 * thread. If decoding were chained on that thread too, each file's next step (hash → sharp → float
 * conversion) would wait for the forward pass to end, and the model would then wait for decodes. In a
 * worker the decode chain keeps moving while the model runs; sharp's work goes to the libuv pool as before.
 * Where the compiled worker script is absent (tests running the TypeScript sources), the same code runs
 * on the calling thread.
 */
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeImageError } from '../images/decode-error.js';
import { preprocessImage } from '../images/preprocess.js';
import { readImageFile } from '../images/read.js';
import type { ImageEntry } from '../images/walk.js';
import type { PreprocessSpec } from '../model/preprocessor.js';

export interface DecodeOptions {
  preprocess: PreprocessSpec;
  maxPixels: number;
  /** A scan store: contents it already holds are reported `known`, not decoded (needs `lookup`). */
  store?: string;
  /**
   * URL of the module that looks contents up in `store` (store/known.ts exports `openContentLookup`): loaded
   * here or in the worker, so this stage needs no SQL of its own.
   */
  lookup?: string;
  /** Hash the bytes (default true; the benchmark's bare-inference contender turns it off). */
  hash?: boolean;
}

/** One file through the decode stage: decoded, already in the store (by content), or failed. */
export type Decoded =
  | {
      status: 'ok';
      /** SHA-256 of the file's bytes (hex); null when hashing is off (the bare-inference benchmark). */
      hash: string | null;
      /** float32 [3, H, W] */
      pixels: Float32Array;
      width: number;
      height: number;
    }
  | { status: 'known'; hash: string }
  /** `hash` is null when the file could not be read. */
  | { status: 'error'; hash: string | null; reason: string };

/** One file through the stage; never throws (a failure is a per-file error). */
export async function decodeFile(entry: ImageEntry, o: DecodeOptions, known: (hash: string) => boolean): Promise<Decoded> {
  let hash: string | null = null;
  try {
    const bytes = await readImageFile(entry.file);
    if (o.hash !== false) {
      hash = Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
      if (known(hash)) return { status: 'known', hash };
    }
    if (bytes.length === 0) return { status: 'error', hash, reason: 'empty file (0 bytes)' };
    const img = await preprocessImage(bytes, o.preprocess, { maxPixels: o.maxPixels });
    return { status: 'ok', hash, pixels: img.pixels, width: img.width, height: img.height };
  } catch (err) {
    return { status: 'error', hash, reason: describeImageError(err) };
  }
}

export interface ContentLookup {
  known(hash: string): boolean;
  close(): void;
}

const NOTHING_KNOWN: ContentLookup = { known: () => false, close: () => {} };

/** The store look-up named by `o.lookup`, or one that knows nothing. */
export async function contentLookup(o: DecodeOptions): Promise<ContentLookup> {
  if (!o.lookup || !o.store) return NOTHING_KNOWN;
  const mod = (await import(o.lookup)) as { openContentLookup(store: string): ContentLookup };
  return mod.openContentLookup(o.store);
}

const WORKER = fileURLToPath(new URL('./decode-worker.js', import.meta.url));

export interface Decoder {
  decode(entry: ImageEntry): Promise<Decoded>;
  close(): Promise<void>;
}

/** The decode stage in a worker thread (or in this thread when the compiled worker is not there). */
export function openDecoder(o: DecodeOptions): Decoder {
  if (!existsSync(WORKER)) {
    const lookup = contentLookup(o);
    return { decode: async (entry) => decodeFile(entry, o, (await lookup).known), close: async () => (await lookup).close() };
  }
  const worker = new Worker(WORKER, { workerData: o });
  const waiting = new Map<number, { resolve: (d: Decoded) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  // A dead decoder fails the scan (which then resumes from its store), rather than marking files as broken.
  const fail = (err: Error) => {
    failure ??= new Error(`the decode worker stopped: ${err.message}`);
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('message', ({ id, decoded }: { id: number; decoded: Decoded }) => {
    waiting.get(id)?.resolve(decoded);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  worker.unref(); // keeps the process alive only while a decode is pending
  return {
    decode: (entry) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = next++;
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, entry });
      }),
    close: async () => {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
