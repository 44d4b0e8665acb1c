/**
 * One file from the hub into the cache: resumable (`<blob>.part` + `Range: bytes=N-`, 206 or a fresh 200),
 * size-checked, hash-verified (sha256 for LFS files, git blob sha1 for regular ones) and only then renamed
 * to its final blob name, so a blob in the cache is always a complete, verified file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { MassivitError, errorMessage } from '../../errors.js';
import { etagHash, httpError, type FileHash, type HubClient, type RemoteFile } from './client.js';

export interface DownloadProgress {
  file: string;
  received: number;
  total?: number;
}

export interface BlobRequest {
  repo: string;
  commit: string;
  file: RemoteFile;
  url: string;
  blobPath: string;
  /** Extra attempts after a dropped connection, each resuming where the last stopped. */
  retries: number;
  onProgress?: (p: DownloadProgress) => void;
  onNotice?: (message: string) => void;
}

/** Hash of a file on disk: sha256 of its bytes, or git's blob sha1 (`blob <size>\0` + bytes). */
export async function hashFile(path: string, algo: FileHash['algo']): Promise<string> {
  const hash = createHash(algo === 'sha256' ? 'sha256' : 'sha1');
  if (algo === 'git-sha1') hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A HEAD on /resolve/ for listings without blob data: the hub's X-Linked-Etag (LFS) or ETag, and the size. */
export async function remoteMetadata(client: HubClient, url: string, what: string, repo: string): Promise<{ hash?: FileHash; size?: number }> {
  const { response, url: at, linkedEtag, linkedSize } = await client.request(url, { method: 'HEAD', crossOrigin: false, what });
  if (response.status >= 400) throw await httpError(response, at, what, client.config, repo);
  const hash = etagHash(linkedEtag) ?? etagHash(response.headers.get('etag'));
  const length = response.headers.get('content-length');
  const size = linkedSize ?? (response.status === 200 && length && /^\d+$/.test(length) ? Number(length) : undefined);
  return { ...(hash ? { hash } : {}), ...(size !== undefined ? { size } : {}) };
}

class Interrupted extends Error {}

/** Downloads into `<blob>.part`, resuming a previous one, and renames it to the blob after verification. */
export async function downloadBlob(client: HubClient, req: BlobRequest, expected: FileHash, size: number | undefined): Promise<void> {
  const part = `${req.blobPath}.part`;
  const label = req.file.path;
  mkdirSync(dirname(req.blobPath), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(client, req, part, size);
      break;
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
      const have = existsSync(part) ? statSync(part).size : 0;
      if (attempt < req.retries) {
        req.onNotice?.(`${label}: ${err.message}; resuming at byte ${have} (attempt ${attempt + 2} of ${req.retries + 1})`);
        continue;
      }
      throw new MassivitError(
        'NETWORK',
        `Download of ${label} from ${req.repo} stopped at ${have}${size !== undefined ? ` of ${size}` : ''} bytes: ${err.message}`,
        `The partial file stays in the cache (${part}); run the same pull again to resume it. Nothing was written to the models folder.`,
      );
    }
  }
  const actual = await hashFile(part, expected.algo);
  if (actual !== expected.value) {
    rmSync(part, { force: true });
    throw new MassivitError(
      'NETWORK',
      `${expected.algo === 'sha256' ? 'sha256' : 'git blob sha1'} mismatch for ${label} from ${req.repo}: the hub announced ${expected.value}, the downloaded bytes hash to ${actual}`,
      'The corrupt download was deleted and nothing was written to the models folder; try again, or report the repo if it persists.',
    );
  }
  renameSync(part, req.blobPath);
}

async function fetchInto(client: HubClient, req: BlobRequest, part: string, size: number | undefined): Promise<void> {
  let from = existsSync(part) ? statSync(part).size : 0;
  if (size !== undefined && from > size) {
    rmSync(part, { force: true });
    from = 0;
  }
  if (size !== undefined && from === size && from > 0) return; // complete but not yet verified
  const what = `${req.file.path} of ${req.repo}`;
  const { response, url } = await client.request(req.url, { what, ...(from > 0 ? { from } : {}) });
  if (response.status === 416 && from > 0) {
    // Our .part does not fit the remote file any more: start over.
    rmSync(part, { force: true });
    throw new Interrupted('the server refused to resume (HTTP 416)');
  }
  if (response.status !== 200 && response.status !== 206) throw await httpError(response, url, what, client.config, req.repo);
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== from) {
      await response.body?.cancel();
      rmSync(part, { force: true });
      throw new Interrupted(`the server resumed at the wrong offset (${response.headers.get('content-range') ?? 'no Content-Range'})`);
    }
  } else {
    from = 0; // a 200 is the whole file: the server ignored Range
  }
  const length = response.headers.get('content-length');
  const total = size ?? (length && /^\d+$/.test(length) ? from + Number(length) : undefined);
  if (!response.body) throw new Interrupted('empty response body');
  let received = from;
  req.onProgress?.({ file: req.file.path, received, total });
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      req.onProgress?.({ file: req.file.path, received, total });
      done(null, chunk);
    },
  });
  const out = createWriteStream(part, { flags: from > 0 ? 'a' : 'w' });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), count, out);
  } catch (err) {
    // The next attempt resumes from the .part's size on disk, so wait until every write has landed.
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
    const cause = (err as { cause?: unknown }).cause;
    throw new Interrupted(`the connection dropped: ${cause ? `${errorMessage(err)}, ${errorMessage(cause)}` : errorMessage(err)}`);
  }
  if (total !== undefined && received < total) throw new Interrupted(`the connection closed after ${received} of ${total} bytes`);
  if (total !== undefined && received > total) {
    rmSync(part, { force: true });
    throw new MassivitError('NETWORK', `${what}: received ${received} bytes but the hub announced ${total}`);
  }
}
