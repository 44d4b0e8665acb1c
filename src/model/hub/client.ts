/**
 * A minimal Hugging Face hub client on Node's global fetch. Redirects are followed by hand so they can be
 * bounded (loops, more than 5 hops) and so the token only goes to the hub endpoint itself: like
 * huggingface_hub (requests), Authorization is dropped when a redirect leaves the endpoint's origin (the CDN).
 */
import { MassivitError, badModel, errorMessage } from '../../errors.js';
import { VERSION } from '../../version.js';
import { checkCommit, safeRemotePath } from './paths.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const MAX_REDIRECTS = 5;

export interface HubConfig {
  endpoint: string;
  token?: string;
}

/** HF_ENDPOINT and HF_TOKEN, as huggingface_hub reads them. */
export function hubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const raw = (env.HF_ENDPOINT ?? '').trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MassivitError('BAD_OPTION', `Expected an http(s) URL for HF_ENDPOINT but received '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MassivitError('BAD_OPTION', `Expected an http(s) URL for HF_ENDPOINT but received '${raw}'`);
  const token = (env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN ?? '').trim();
  return { endpoint: raw.replace(/\/+$/, ''), ...(token ? { token } : {}) };
}

/** The endpoint without credentials, for messages and manifests. */
export function publicEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
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
  response: Response;
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

export class HubClient {
  readonly config: HubConfig;
  private readonly origin: string;

  constructor(config: HubConfig) {
    this.config = config;
    this.origin = new URL(config.endpoint).origin;
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
      if (seen.has(url.href)) throw new MassivitError('NETWORK', `Redirect loop while fetching ${opts.what}: ${url.href} was visited twice`);
      seen.add(url.href);
      const headers: Record<string, string> = { 'user-agent': `massivit/${VERSION}` };
      if (this.config.token && url.origin === this.origin) headers.authorization = `Bearer ${this.config.token}`;
      if (opts.from) headers.range = `bytes=${opts.from}-`;
      let response: Response;
      try {
        response = await fetch(url, { method: opts.method ?? 'GET', headers, redirect: 'manual' });
      } catch (err) {
        throw unreachable(url, opts.what, err);
      }
      linkedEtag ??= response.headers.get('x-linked-etag') ?? undefined;
      linkedSize ??= sizeHeader(response.headers.get('x-linked-size'));
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || !location) return { response, url, linkedEtag, linkedSize };
      await response.body?.cancel();
      const next = redirectTarget(url, location, opts.what);
      if (next.origin !== url.origin && opts.crossOrigin === false) return { response, url, linkedEtag, linkedSize };
      if (hop >= MAX_REDIRECTS) throw new MassivitError('NETWORK', `Too many redirects (more than ${MAX_REDIRECTS}) while fetching ${opts.what}, last at ${url.href}`);
      url = next;
    }
  }

  /** `GET /api/models/{repo}[/revision/{rev}]?blobs=true`: the commit and every file with its size and hash. */
  async repoInfo(repo: string, revision: string): Promise<RepoInfo> {
    const path = `/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
    const what = `the file list of ${repo}@${revision}`;
    const { response, url } = await this.request(this.url(`${path}?blobs=true`), { what, crossOrigin: false });
    if (!response.ok) throw await httpError(response, url, what, this.config, repo, revision);
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw new MassivitError('NETWORK', `The hub's answer for ${what} is not JSON (${errorMessage(err)}) at ${url.href}`, 'Is HF_ENDPOINT a Hugging Face hub (or mirror)?');
    }
    return parseRepoInfo(repo, body);
  }

  resolveUrl(repo: string, commit: string, path: string): string {
    return this.url(`/${repo}/resolve/${commit}/${safeRemotePath(path).split('/').map(encodeURIComponent).join('/')}`);
  }
}

function sizeHeader(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function redirectTarget(from: URL, location: string, what: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new MassivitError('NETWORK', `Invalid redirect while fetching ${what}: ${JSON.stringify(location)}`);
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw badModel(`Refusing a redirect to ${JSON.stringify(location)} while fetching ${what}: only http(s) is followed`);
  return next;
}

function unreachable(url: URL, what: string, err: unknown): HubUnreachable {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? errorMessage(err);
  return new HubUnreachable(
    `Cannot reach ${url.origin} (${why}) while fetching ${what}`,
    'Check the network connection; HF_ENDPOINT points massivit at a mirror. Files already in the cache are reused when the hub is unreachable.',
  );
}

/** An HTTP error answer, explained: 401/403 mention HF_TOKEN, 404 names what was not found. */
export async function httpError(response: Response, url: URL, what: string, config: HubConfig, repo: string, revision?: string): Promise<MassivitError> {
  const code = response.headers.get('x-error-code') ?? '';
  const serverMessage = response.headers.get('x-error-message') ?? '';
  await response.body?.cancel().catch(() => undefined);
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const detail = serverMessage ? ` (${serverMessage})` : '';
  if (response.status === 401 || response.status === 403) {
    const hint = config.token
      ? 'HF_TOKEN is set but was refused: check that it has read access to this repo and that you accepted the repo\'s terms on the website if it is gated.'
      : 'The repo is private, gated or does not exist: set HF_TOKEN to a Hugging Face access token (https://huggingface.co/settings/tokens) if you have access.';
    return new MassivitError('NETWORK', `${status} for ${what}${detail}${config.token ? '' : ': no HF_TOKEN is set'}`, hint);
  }
  if (response.status === 404) {
    if (code === 'RevisionNotFound') return new MassivitError('BAD_OPTION', `Revision '${revision}' not found in ${repo}${detail}`, 'Pass --revision with an existing branch, tag or commit id.');
    if (code === 'EntryNotFound') return new MassivitError('NETWORK', `${what}: file not found at ${url.href}${detail}`);
    return new MassivitError('BAD_OPTION', `${status}: ${what} not found at ${url.origin}${detail}`, `Check the repo id '${repo}' (massivit models catalog lists known ones).`);
  }
  return new MassivitError('NETWORK', `${status} for ${what} at ${url.href}${detail}`, response.status >= 500 ? 'The hub had a server error; try again later.' : undefined);
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
