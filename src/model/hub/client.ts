/**
 * A minimal Hugging Face hub client on http.ts (timeouts, no decompression). Redirects are followed by hand
 * so they can be bounded (loops, more than 5 hops) and so credentials only go to the hub endpoint itself:
 * like huggingface_hub (requests), Authorization is dropped when a redirect leaves the endpoint's origin (the
 * CDN). Credentials written into HF_ENDPOINT (https://user:pass@host) are taken out of the URL at once, so no
 * message, manifest or log line built from a URL can carry them.
 */
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { MassivitError, badModel, errorMessage } from '../../contracts/errors.js';
import { VERSION } from '../../contracts/version.js';
import { DEFAULT_LIMITS, HubTimeout, backoff, printable, readCapped, send, sleep, type HubLimits, type RawResponse } from './http.js';
import { checkCommit, safeRemotePath } from './paths.js';

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const MAX_REDIRECTS = 5;

/** The most bytes a JSON answer (a repo listing) may have, compressed or not. */
const MAX_LISTING_BYTES = 64 * 1024 ** 2;

export interface HubConfig {
  /** Without credentials: safe to print. */
  endpoint: string;
  token?: string;
  /** `user:password` taken out of HF_ENDPOINT, sent as Basic auth to the endpoint when no HF_TOKEN is set. */
  basic?: string;
}

/** A URL as it may be shown: anything between `//` and `@` is hidden. */
function redactUrl(text: string): string {
  return text.replace(/\/\/[^/?#]*@/g, '//***@');
}

/** URL userinfo is percent-encoded; a stray `%` is kept as typed rather than thrown on. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** HF_ENDPOINT and HF_TOKEN, as huggingface_hub reads them. */
export function hubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const raw = (env.HF_ENDPOINT ?? '').trim() || DEFAULT_ENDPOINT;
  const refuse = () => new MassivitError('BAD_OPTION', `Expected an http(s) URL for HF_ENDPOINT but received '${redactUrl(raw)}'`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse();
  const basic = url.username || url.password ? `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}` : undefined;
  url.username = '';
  url.password = '';
  const token = (env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN ?? '').trim();
  return { endpoint: url.href.replace(/\/+$/, ''), ...(token ? { token } : {}), ...(basic ? { basic } : {}) };
}

export type FileHash = { algo: 'sha256' | 'git-sha1'; value: string };

export interface RemoteFile {
  path: string;
  size?: number;
  /** sha256 for LFS files, the git blob sha1 for regular ones; absent when the listing has no blob data. */
  hash?: FileHash;
}

export interface RepoInfo {
  repo: string;
  commit: string;
  files: RemoteFile[];
}

/** The hub could not be reached at all (as opposed to answering with an error): the cache may stand in. */
export class HubUnreachable extends MassivitError {
  constructor(message: string, hint?: string) {
    super('NETWORK', message, hint);
  }
}

export interface HubResponse {
  response: RawResponse;
  url: URL;
  /** X-Linked-Etag / X-Linked-Size seen on a redirect hop (the hub sends them on its 302 to the CDN). */
  linkedEtag?: string;
  linkedSize?: number;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  /** Resume from this byte offset (Range: bytes=N-). */
  from?: number;
  /** Follow redirects to other origins (file downloads do; metadata HEADs stop at the hub's answer). */
  crossOrigin?: boolean;
  what: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Answers worth another try: rate limiting and the server errors a busy hub or CDN gives. */
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Connection failures worth another try; a refused connection or an unknown host is not one. */
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

export class HubClient {
  readonly config: HubConfig;
  readonly limits: HubLimits;
  private readonly origin: string;
  private readonly notice: (message: string) => void;

  constructor(config: HubConfig, limits: HubLimits = DEFAULT_LIMITS, notice: (message: string) => void = () => undefined) {
    this.config = config;
    this.limits = limits;
    this.notice = notice;
    this.origin = new URL(config.endpoint).origin;
  }

  private authorization(url: URL): string | undefined {
    if (url.origin !== this.origin) return undefined;
    if (this.config.token) return `Bearer ${this.config.token}`;
    return this.config.basic ? `Basic ${Buffer.from(this.config.basic).toString('base64')}` : undefined;
  }

  /** One hop, retried with back-off after a timeout, a dropped connection or a 429/5xx. */
  private async attempt(url: URL, opts: RequestOptions): Promise<RawResponse> {
    const headers: Record<string, string> = { 'user-agent': `massivit/${VERSION}`, 'accept-encoding': 'identity' };
    const auth = this.authorization(url);
    if (auth) headers.authorization = auth;
    if (opts.from) headers.range = `bytes=${opts.from}-`;
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const response = await send(url, opts.method ?? 'GET', headers, this.limits);
        if (!RETRY_STATUS.has(response.status) || attempt >= this.limits.retries) return response;
        response.discard();
        why = `HTTP ${response.status}`;
      } catch (err) {
        const retryable = err instanceof HubTimeout || RETRY_CODES.has((err as { code?: string }).code ?? '');
        if (!retryable || attempt >= this.limits.retries) throw unreachable(url, opts.what, err);
        why = describeFailure(err);
      }
      const wait = backoff(this.limits, attempt);
      this.notice(`${opts.what}: ${why} from ${url.origin}; retrying in ${wait} ms (attempt ${attempt + 2} of ${this.limits.retries + 1})`);
      await sleep(wait);
    }
  }

  url(path: string): string {
    return `${this.config.endpoint}${path}`;
  }

  async request(target: string, opts: RequestOptions): Promise<HubResponse> {
    let url = new URL(target);
    const seen = new Set<string>();
    let linkedEtag: string | undefined;
    let linkedSize: number | undefined;
    for (let hop = 0; ; hop++) {
      if (seen.has(url.href)) throw new MassivitError('NETWORK', `Redirect loop while fetching ${opts.what}: ${redactUrl(url.href)} was visited twice`);
      seen.add(url.href);
      const response = await this.attempt(url, opts);
      linkedEtag ??= response.header('x-linked-etag');
      linkedSize ??= sizeHeader(response.header('x-linked-size'));
      const location = response.header('location');
      if (!REDIRECTS.has(response.status) || !location) return { response, url, linkedEtag, linkedSize };
      response.discard();
      const next = redirectTarget(url, location, opts.what);
      if (next.origin !== url.origin && opts.crossOrigin === false) return { response, url, linkedEtag, linkedSize };
      if (hop >= MAX_REDIRECTS) throw new MassivitError('NETWORK', `Too many redirects (more than ${MAX_REDIRECTS}) while fetching ${opts.what}, last at ${redactUrl(url.href)}`);
      url = next;
    }
  }

  /** `GET /api/models/{repo}[/revision/{rev}]?blobs=true`: the commit and every file with its size and hash. */
  async repoInfo(repo: string, revision: string): Promise<RepoInfo> {
    const path = `/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
    const what = `the file list of ${repo}@${revision}`;
    const { response, url } = await this.request(this.url(`${path}?blobs=true`), { what, crossOrigin: false });
    if (response.status < 200 || response.status >= 300) throw await httpError(response, url, what, this.config, repo, revision);
    let body: unknown;
    let raw: Buffer;
    try {
      raw = await readCapped(response, MAX_LISTING_BYTES, what);
    } catch (err) {
      if (err instanceof MassivitError) throw err;
      throw unreachable(url, what, err); // a stall or a drop half-way through the listing
    }
    const bytes = decoded(raw, response.header('content-encoding'), what);
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new MassivitError('NETWORK', `The hub's answer for ${what} is not JSON (${errorMessage(err)}) at ${redactUrl(url.href)}`, 'Is HF_ENDPOINT a Hugging Face hub (or mirror)?');
    }
    return parseRepoInfo(repo, body);
  }

  resolveUrl(repo: string, commit: string, path: string): string {
    return this.url(`/${repo}/resolve/${commit}/${safeRemotePath(path).split('/').map(encodeURIComponent).join('/')}`);
  }
}

/** A listing some mirror compressed although identity was asked for: inflated, but never past the cap. */
function decoded(bytes: Buffer, encoding: string | undefined, what: string): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  const opts = { maxOutputLength: MAX_LISTING_BYTES };
  try {
    if (enc === 'identity' || enc === '') return bytes;
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(bytes, opts);
    if (enc === 'deflate') return inflateSync(bytes, opts);
    if (enc === 'br') return brotliDecompressSync(bytes, opts);
  } catch (err) {
    throw new MassivitError('NETWORK', `The hub's ${enc} answer for ${what} does not inflate within ${MAX_LISTING_BYTES} bytes (${errorMessage(err)})`);
  }
  throw new MassivitError('NETWORK', `The hub answered ${what} with an unknown Content-Encoding '${printable(enc, 40)}'`);
}

/** A Content-Length-like header as a byte count; undefined when absent or not a plain decimal. */
export function sizeHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function redirectTarget(from: URL, location: string, what: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new MassivitError('NETWORK', `Invalid redirect while fetching ${what}: ${JSON.stringify(redactUrl(location))}`);
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw badModel(`Refusing a redirect to ${JSON.stringify(redactUrl(location))} while fetching ${what}: only http(s) is followed`);
  return next;
}

function describeFailure(err: unknown): string {
  if (err instanceof HubTimeout) return err.message;
  return redactUrl((err as { code?: string }).code ?? errorMessage(err));
}

function unreachable(url: URL, what: string, err: unknown): HubUnreachable {
  if (err instanceof HubTimeout) {
    return new HubUnreachable(
      `${url.origin} timed out while fetching ${what}: ${err.message}`,
      'A slow hub or mirror: raise --timeout / --connect-timeout. Files already in the cache are reused when the hub does not answer.',
    );
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('HPE_')) {
    return new HubUnreachable(`${url.origin} did not answer in HTTP (${code}) while fetching ${what}`, 'Is HF_ENDPOINT a Hugging Face hub (or mirror), with the right scheme and port?');
  }
  return new HubUnreachable(
    `Cannot reach ${url.origin} (${describeFailure(err)}) while fetching ${what}`,
    'Check the network connection; HF_ENDPOINT points massivit at a mirror. Files already in the cache are reused when the hub is unreachable.',
  );
}

/** An HTTP error answer, explained: 401/403 mention HF_TOKEN, 404 names what was not found. */
export async function httpError(response: RawResponse, url: URL, what: string, config: HubConfig, repo: string, revision?: string): Promise<MassivitError> {
  const code = response.header('x-error-code') ?? '';
  // The server's words go into a one-line message: one line, bounded.
  const serverMessage = printable(response.header('x-error-message') ?? '', 300);
  response.discard();
  const status = `HTTP ${response.status}${response.statusText ? ` ${printable(response.statusText, 80)}` : ''}`;
  const detail = serverMessage ? ` (${serverMessage})` : '';
  if (response.status === 401 || response.status === 403) {
    const hint = config.token
      ? 'HF_TOKEN is set but was refused: check that it has read access to this repo and that you accepted the repo\'s terms on the website if it is gated.'
      : 'The repo is private, gated or does not exist: set HF_TOKEN to a Hugging Face access token (https://huggingface.co/settings/tokens) if you have access.';
    return new MassivitError('NETWORK', `${status} for ${what}${detail}${config.token ? '' : ': no HF_TOKEN is set'}`, hint);
  }
  if (response.status === 404) {
    if (code === 'RevisionNotFound') return new MassivitError('BAD_OPTION', `Revision '${revision}' not found in ${repo}${detail}`, 'Pass --revision with an existing branch, tag or commit id.');
    if (code === 'EntryNotFound') return new MassivitError('NETWORK', `${what}: file not found at ${redactUrl(url.href)}${detail}`);
    return new MassivitError('BAD_OPTION', `${status}: ${what} not found at ${url.origin}${detail}`, `Check the repo id '${repo}' (massivit models catalog lists known ones).`);
  }
  return new MassivitError('NETWORK', `${status} for ${what} at ${redactUrl(url.href)}${detail}`, response.status >= 500 ? 'The hub had a server error; try again later.' : undefined);
}

function parseRepoInfo(repo: string, body: unknown): RepoInfo {
  const obj = (body ?? {}) as { sha?: unknown; siblings?: unknown };
  const commit = checkCommit(obj.sha);
  if (!Array.isArray(obj.siblings)) throw badModel(`The hub's file list for ${repo} has no 'siblings' array`);
  const files = obj.siblings.map((s): RemoteFile => {
    const sib = (s ?? {}) as { rfilename?: unknown; blobId?: unknown; size?: unknown; lfs?: { sha256?: unknown; size?: unknown } };
    const path = safeRemotePath(sib.rfilename);
    const lfsSha = sib.lfs?.sha256;
    const size = intOrUndefined(sib.lfs?.size) ?? intOrUndefined(sib.size);
    let hash: FileHash | undefined;
    if (typeof lfsSha === 'string' && /^[0-9a-f]{64}$/.test(lfsSha)) hash = { algo: 'sha256', value: lfsSha };
    else if (sib.lfs === undefined && typeof sib.blobId === 'string' && /^[0-9a-f]{40}$/.test(sib.blobId)) hash = { algo: 'git-sha1', value: sib.blobId };
    return { path, ...(size !== undefined ? { size } : {}), ...(hash ? { hash } : {}) };
  });
  return { repo, commit, files };
}

function intOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** An ETag header value as a hash: 64 hex → sha256 (LFS), 40 hex → git blob sha1; anything else → undefined. */
export function etagHash(etag: string | null | undefined): FileHash | undefined {
  if (!etag) return undefined;
  const value = etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(value)) return { algo: 'sha256', value };
  if (/^[0-9a-f]{40}$/.test(value)) return { algo: 'git-sha1', value };
  return undefined;
}
