/**
 * `massivit models pull`: a Hugging Face repo (or catalogue name) → models/<name>/ in the HF folder layout.
 * Order matters for the "no partial files" promise: list the repo, fetch and verify every file into the
 * cache, and only then copy them into place (install.ts). Any failure before that leaves models/ untouched.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MassivitError } from '../../contracts/errors.js';
import { catalogEntry, catalogEntryForRepo, CATALOG, type CatalogEntry } from './catalog.js';
import { HubClient, HubUnreachable, hubConfig, type FileHash, type RepoInfo } from './client.js';
import { RepoCache, cacheRoot } from './cache.js';
import { downloadBlob, remoteMetadata, type DownloadProgress } from './download.js';
import { hubLimits, type HubLimits } from './http.js';
import { install, type ManifestFile, type PullManifest } from './install.js';
import { checkLocalName, checkRepoId, checkRevision } from './paths.js';
import { DEFAULT_VARIANT, selectFiles, variantWarning, type PlannedFile } from './select.js';

export interface PullOptions {
  /** `owner/name` or a catalogue name (`dinov2-small-reg`). */
  repo: string;
  revision?: string;
  variant?: string;
  /** An explicit ONNX file of the repo instead of a variant. */
  file?: string;
  /** Where model folders go; default ./models. */
  modelsDir?: string;
  /** Local folder name; default the catalogue name or the repo's name (+ `-<variant>`). */
  name?: string;
  cacheDir?: string;
  /** HF_ENDPOINT, HF_TOKEN, MASSIVIT_CACHE are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  force?: boolean;
  /** Resumed attempts after a dropped connection (default 2); same as limits.retries. */
  retries?: number;
  /** Timeouts, size cap, retries and back-off; unset ones come from MASSIVIT_HUB_* in env, then the defaults. */
  limits?: Partial<Record<keyof HubLimits, string | number>>;
  onProgress?: (p: DownloadProgress) => void;
  onNotice?: (message: string) => void;
}

interface PulledFile {
  remote: string;
  local: string;
  size: number;
  /** Served from the cache without a download. */
  cached: boolean;
}

export interface PullResult {
  name: string;
  dir: string;
  repo: string;
  revision: string;
  commit: string;
  variant: string;
  files: PulledFile[];
  /** models/<name> already held exactly this commit's files. */
  upToDate: boolean;
  /** The hub was unreachable and the cached file list was used. */
  offline: boolean;
  catalog?: CatalogEntry;
  warnings: string[];
}

/** A catalogue name or a repo id → the repo and its catalogue entry, if any. */
export function resolveRepo(arg: string): { repo: string; entry?: CatalogEntry } {
  const entry = catalogEntry(arg);
  if (entry) return { repo: entry.repo, entry };
  if (!arg.includes('/')) {
    throw new MassivitError('BAD_OPTION', `Expected a Hugging Face repo id 'owner/name' or a catalogue name for <repo-id> but received '${arg}'`, `Catalogue names: ${CATALOG.map((e) => e.name).join(', ')} (massivit models catalog)`);
  }
  const repo = checkRepoId(arg);
  const known = catalogEntryForRepo(repo);
  return known ? { repo, entry: known } : { repo };
}

function defaultName(repo: string, entry: CatalogEntry | undefined, variant: string): string {
  const base = entry?.name ?? repo.slice(repo.indexOf('/') + 1);
  return variant === DEFAULT_VARIANT ? base : `${base}-${variant}`;
}

async function listRepo(client: HubClient, cache: RepoCache, repo: string, revision: string, notice: (m: string) => void): Promise<{ info: RepoInfo; offline: boolean }> {
  try {
    const info = await client.repoInfo(repo, revision);
    cache.remember(revision, info);
    return { info, offline: false };
  } catch (err) {
    if (!(err instanceof HubUnreachable)) throw err;
    const commit = cache.readRef(revision);
    const info = commit ? cache.readSnapshot(commit) : undefined;
    if (!info) throw new HubUnreachable(`${err.message}; ${repo}@${revision} is not in the cache (${cache.dir}) either`, err.hint);
    notice(`${err.message}: using the cached file list of ${repo}@${revision} (commit ${info.commit.slice(0, 7)})`);
    return { info, offline: true };
  }
}

interface Fetched {
  blob: string;
  hash: FileHash;
  size: number;
  cached: boolean;
}

async function fetchFile(client: HubClient, cache: RepoCache, info: RepoInfo, planned: PlannedFile, offline: boolean, opts: PullOptions): Promise<Fetched> {
  const url = client.resolveUrl(info.repo, info.commit, planned.remote.path);
  let hash = planned.remote.hash;
  let size = planned.remote.size;
  if (!hash) {
    // Listings without blob data (some mirrors): ask /resolve/ for the ETag, as huggingface_hub does.
    if (offline) throw new HubUnreachable(`The hub is unreachable and the cached listing of ${info.repo} has no hash for ${planned.remote.path}`);
    const meta = await remoteMetadata(client, url, `${planned.remote.path} of ${info.repo}`, info.repo);
    hash = meta.hash;
    size ??= meta.size;
    if (!hash) throw new MassivitError('NETWORK', `The hub sent no sha256 or ETag for ${planned.remote.path} of ${info.repo}: refusing an unverifiable download`);
  }
  const blob = cache.blobPath(hash.value);
  if (existsSync(blob) && (size === undefined || statSync(blob).size === size)) return { blob, hash, size: statSync(blob).size, cached: true };
  if (offline) throw new HubUnreachable(`The hub is unreachable and ${planned.remote.path} of ${info.repo} is not in the cache (${cache.dir})`);
  await downloadBlob(client, { repo: info.repo, commit: info.commit, file: planned.remote, url, blobPath: blob, retries: client.limits.retries, onProgress: opts.onProgress, onNotice: opts.onNotice }, hash, size);
  return { blob, hash, size: statSync(blob).size, cached: false };
}

export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const env = opts.env ?? process.env;
  const notice = opts.onNotice ?? (() => undefined);
  const { repo, entry } = resolveRepo(opts.repo);
  const revision = checkRevision(opts.revision ?? 'main');
  const variant = opts.variant ?? DEFAULT_VARIANT;
  const name = checkLocalName(opts.name ?? defaultName(repo, entry, opts.file ? DEFAULT_VARIANT : variant));
  const modelsDir = resolve(opts.modelsDir ?? 'models');
  const config = hubConfig(env);
  const limits = hubLimits(env, { ...(opts.retries !== undefined ? { retries: opts.retries } : {}), ...opts.limits });
  const client = new HubClient(config, limits, notice);
  const cache = new RepoCache(cacheRoot(env, opts.cacheDir), repo);

  const { info, offline } = await listRepo(client, cache, repo, revision, notice);
  const selection = selectFiles(info, variant, opts.file);
  const warnings = [...selection.warnings];
  const loud = variantWarning(selection.variant);
  if (loud) warnings.unshift(loud);
  for (const w of warnings) notice(w);
  if (selection.visionTower) notice(`${repo} is a CLIP repo: pulling the vision tower only (${selection.onnx.remote.path})`);

  const blobs = new Map<string, string>();
  const files: PulledFile[] = [];
  const manifestFiles: ManifestFile[] = [];
  for (const planned of selection.files) {
    const got = await fetchFile(client, cache, info, planned, offline, opts);
    blobs.set(planned.local, got.blob);
    files.push({ remote: planned.remote.path, local: planned.local, size: got.size, cached: got.cached });
    manifestFiles.push({ remote: planned.remote.path, local: planned.local, size: got.size, hash: got.hash });
  }
  const manifest: PullManifest = {
    repo,
    revision,
    commit: info.commit,
    variant: selection.variant,
    endpoint: config.endpoint, // hubConfig took any credentials out of it
    ...(entry ? { catalog: entry.name } : {}),
    files: manifestFiles,
  };
  const changed = install({ modelsDir, name, manifest, blobs, force: opts.force ?? false });
  return {
    name,
    dir: resolve(modelsDir, name),
    repo,
    revision,
    commit: info.commit,
    variant: selection.variant,
    files,
    upToDate: !changed,
    offline,
    ...(entry ? { catalog: entry } : {}),
    warnings,
  };
}
