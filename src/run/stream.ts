/**
 * The images side of the runner: an image list read and decoded in list order by the decode worker
 * (run/decode.ts), up to `ahead` files in flight while the model runs. scan and intervene both read
 * their images through here.
 */
import type { ImageEntry } from '../images/walk.js';
import { openDecoder, type Decoded, type DecodeOptions } from './decode.js';
import { mapOrdered } from './pipeline.js';

/** A decoded (or failed, or already known) file, with the walk entry it came from. */
export type Prepared<S extends Decoded['status'] = Decoded['status']> = Extract<Decoded, { status: S }> & { entry: ImageEntry };

/** Every entry, decoded, in list order; the decoder closes when the consumer stops or the list ends. */
export async function* decodeInOrder(entries: Iterable<ImageEntry>, o: DecodeOptions, ahead: number): AsyncGenerator<Prepared> {
  const decoder = openDecoder(o);
  try {
    yield* mapOrdered(entries, ahead, async (entry): Promise<Prepared> => ({ entry, ...(await decoder.decode(entry)) }) as Prepared);
  } finally {
    await decoder.close();
  }
}

export interface DecodedBatch {
  /** Decoded images, at most `batch` of them. */
  ok: Prepared<'ok'>[];
  /** Files that failed since the previous batch. */
  failed: Prepared<'error'>[];
  /** Files whose content the store already holds (only with DecodeOptions.store). */
  known: Prepared<'known'>[];
}

/** Decoded images in list order, in batches of `batch`, with the failed and known files met on the way. */
export async function* decodedBatches(entries: Iterable<ImageEntry>, o: DecodeOptions, batch: number): AsyncGenerator<DecodedBatch> {
  let next: DecodedBatch = { ok: [], failed: [], known: [] };
  for await (const p of decodeInOrder(entries, o, Math.max(4, 2 * batch))) {
    if (p.status === 'known') next.known.push(p);
    else if (p.status === 'error') next.failed.push(p);
    else next.ok.push(p);
    if (next.ok.length >= batch) {
      yield next;
      next = { ok: [], failed: [], known: [] };
    }
  }
  if (next.ok.length + next.failed.length + next.known.length > 0) yield next;
}
