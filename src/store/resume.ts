/**
 * May this run resume the store in --out? Checked on a read-only connection before anything opens the
 * store for writing (which alone would change its header), so a refused run leaves every byte as it was:
 * the same model and options (fingerprint), the same image folder, the same shard.
 */
import { existsSync } from 'node:fs';
import { MassivitError } from '../contracts/errors.js';
import { assertSameImagesRoot, IMAGES_ROOT_KEY } from './images-root.js';
import { getMeta } from './db.js';
import { openStoreForReading } from './read.js';

interface StoreMeta {
  fingerprint?: string;
  imagesRoot?: string;
  shard?: string;
}

/** The resume-relevant meta of an existing store; undefined when there is none or it cannot be read. */
function readStoreMeta(storePath: string): StoreMeta | undefined {
  if (!existsSync(storePath)) return undefined;
  try {
    const db = openStoreForReading(storePath);
    try {
      return { fingerprint: getMeta(db, 'fingerprint'), imagesRoot: getMeta(db, IMAGES_ROOT_KEY), shard: getMeta(db, 'shard') };
    } finally {
      db.close();
    }
  } catch {
    return undefined; // not ours, or unreadable: the output guard says which
  }
}

/** Another shard (or the whole folder) into a shard's --out would drop every row of the earlier selection. */
function assertSameShard(previous: string | undefined, current: string, out: string): void {
  if (previous === undefined || previous === current) return;
  const name = (s: string) => (s === 'all' ? 'the whole image folder' : `shard ${s}`);
  throw new MassivitError('BAD_OUTPUT', `--out ${out} holds a scan of ${name(previous)}, this run scans ${name(current)}: refusing to drop its results`, 'Use the --out folder of this shard, or a new folder (`massivit merge` combines shards)');
}

export interface ResumeCheck {
  out: string;
  storePath: string;
  /** Real path of --images. */
  images: string;
  /** 'i/N' or 'all'. */
  shard: string;
  /** Known once the model is loaded; the early check (before the model session) passes it too. */
  fingerprint?: string;
}

export function assertResumable(c: ResumeCheck): void {
  const meta = readStoreMeta(c.storePath);
  if (!meta) return;
  if (c.fingerprint !== undefined && meta.fingerprint !== undefined && meta.fingerprint !== c.fingerprint) {
    throw new MassivitError('BAD_OUTPUT', `--out ${c.out} holds a scan made with a different model or options; refusing to mix results`, 'Use a new --out folder, or the same model and options to resume');
  }
  assertSameImagesRoot(meta.imagesRoot, c.images, c.out);
  assertSameShard(meta.shard, c.shard, c.out);
}
