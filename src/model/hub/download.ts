/**
 * One file from the hub into the cache: resumable (`<blob>.part` + `Range: bytes=N-`, 206 or a fresh 200),
 * size-checked, hash-verified (sha256 for LFS files, git blob sha1 for regular ones) and only then renamed
 * to its final blob name, so a blob in the cache is always a complete, verified file. The `.part` never
 * grows past the size the hub announced (or --max-size when it announced none): extra bytes are refused,
 * not written.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MassivitError, errorMessage } from '../../contracts/errors.js';
import { etagHash, httpError, sizeHeader, type FileHash, type HubClient, type RemoteFile } from './client.js';
import { HubTimeout, LIMIT_SOURCES, backoff, printable, sleep, speedCheck } from './http.js';

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
async function hashFile(path: string, algo: FileHash['algo']): Promise<string> {
  const hash = createHash(algo === 'sha256' ? 'sha256' : 'sha1');
  if (algo === 'git-sha1') hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A HEAD on /resolve/ for listings without blob data: the hub's X-Linked-Etag (LFS) or ETag, and the size. */
export async function remoteMetadata(client: HubClient, url: string, what: string, repo: string): Promise<{ hash?: FileHash; size?: number }> {
  const { response, url: at, linkedEtag, linkedSize } = await client.request(url, { method: 'HEAD', crossOrigin: false, what });
  if (response.status >= 400) throw await httpError(response, at, what, client.config, repo);
  response.discard();
  const hash = etagHash(linkedEtag) ?? etagHash(response.header('etag'));
  const size = linkedSize ?? (response.status === 200 ? sizeHeader(response.header('content-length')) : undefined);
  return { ...(hash ? { hash } : {}), ...(size !== undefined ? { size } : {}) };
}

class Interrupted extends Error {}

/** Downloads into `<blob>.part`, resuming a previous one, and renames it to the blob after verification. */
export async function downloadBlob(client: HubClient, req: BlobRequest, expected: FileHash, size: number | undefined): Promise<void> {
  const part = `${req.blobPath}.part`;
  const label = req.file.path;
  const { maxBytes } = client.limits;
  if (size !== undefined && size > maxBytes) {
    throw new MassivitError('NETWORK', `${label} of ${req.repo} is ${size} bytes, more than the ${maxBytes} allowed`, `Raise ${LIMIT_SOURCES.maxBytes.flag} (or ${LIMIT_SOURCES.maxBytes.env}) if the file is meant to be that large.`);
  }
  mkdirSync(dirname(req.blobPath), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(client, req, part, size);
      break;
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
      const have = existsSync(part) ? statSync(part).size : 0;
      if (attempt < req.retries) {
        const wait = backoff(client.limits, attempt);
        req.onNotice?.(`${label}: ${err.message}; resuming at byte ${have} (attempt ${attempt + 2} of ${req.retries + 1})`);
        await sleep(wait);
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
    response.discard();
    rmSync(part, { force: true });
    throw new Interrupted('the server refused to resume (HTTP 416)');
  }
  if (response.status !== 200 && response.status !== 206) throw await httpError(response, url, what, client.config, req.repo);
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.header('content-range') ?? '');
    if (!range || Number(range[1]) !== from) {
      response.discard();
      rmSync(part, { force: true });
      throw new Interrupted(`the server resumed at the wrong offset (${printable(response.header('content-range') ?? 'no Content-Range', 80)})`);
    }
  } else {
    from = 0; // a 200 is the whole file: the server ignored Range
  }
  const encoding = (response.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    // Asked for identity; a compressed answer could inflate without bound, and its bytes are not the file's.
    response.discard();
    throw new MassivitError('NETWORK', `${what}: the server sent a '${printable(encoding, 40)}'-encoded body although massivit asked for the plain bytes (Accept-Encoding: identity); refusing it`);
  }
  const length = sizeHeader(response.header('content-length'));
  if (size !== undefined && length !== undefined && from + length !== size) {
    response.discard();
    throw new MassivitError('NETWORK', `${what}: the server announced ${from + length} bytes but the hub's listing says ${size}; refusing it before writing anything`);
  }
  const total = size ?? (length !== undefined ? from + length : undefined);
  const cap = total ?? client.limits.maxBytes;
  if (cap > client.limits.maxBytes) {
    response.discard();
    throw new MassivitError('NETWORK', `${what} is ${cap} bytes, more than the ${client.limits.maxBytes} allowed`, `Raise ${LIMIT_SOURCES.maxBytes.flag} (or ${LIMIT_SOURCES.maxBytes.env}) if the file is meant to be that large.`);
  }
  let received = from;
  req.onProgress?.({ file: req.file.path, received, total });
  const out = await open(part, from > 0 ? 'a' : 'w').catch((err: unknown) => {
    response.discard();
    throw cacheError(part, err);
  });
  let overflow = false;
  const checkSpeed = speedCheck(client.limits);
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      checkSpeed(chunk.length);
      const room = cap - received;
      // Never write past the announced size: what fits is kept (the hash decides), the rest is refused.
      const keep = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (keep.length > 0) await writeAll(out, keep).catch((err: unknown) => Promise.reject(cacheError(part, err)));
      received += keep.length;
      req.onProgress?.({ file: req.file.path, received, total });
      if (chunk.length > room) {
        overflow = true;
        response.discard();
        break;
      }
    }
  } catch (err) {
    response.discard();
    if (err instanceof MassivitError) throw err;
    if (err instanceof HubTimeout) throw new Interrupted(err.message);
    const cause = (err as { cause?: unknown }).cause;
    throw new Interrupted(`the connection dropped: ${cause ? `${errorMessage(err)}, ${errorMessage(cause)}` : errorMessage(err)}`);
  } finally {
    await out.close().catch(() => undefined);
  }
  if (overflow) {
    // Without an announced size the bytes kept are only a cap's worth of an unknown file: not resumable.
    if (total === undefined) rmSync(part, { force: true });
    const limit = total !== undefined ? `the announced ${total} bytes` : `the ${cap} bytes allowed (${LIMIT_SOURCES.maxBytes.flag})`;
    throw new MassivitError('NETWORK', `${what}: the server sent more than ${limit}; stopped at ${received} bytes and refused the rest`);
  }
  if (total !== undefined && received < total) throw new Interrupted(`the connection closed after ${received} of ${total} bytes`);
}

/** The .part's size is what the next attempt resumes from, so every byte counted must be on disk. */
async function writeAll(out: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) at += (await out.write(bytes, at, bytes.length - at)).bytesWritten;
}

/** The cache cannot be written (full disk, read-only, permissions): the user's disk, not the network. */
function cacheError(path: string, err: unknown): MassivitError {
  const code = (err as { code?: string }).code;
  return new MassivitError('BAD_OUTPUT', `Cannot write the download cache file ${path}${code ? ` (${code})` : ''}: ${errorMessage(err)}`, 'Free some space or pass --cache-dir (or MASSIVIT_CACHE) pointing at a writable folder; the partial file there is resumed.');
}
