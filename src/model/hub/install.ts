/**
 * Putting verified cache blobs into models/<name>/: everything is copied into a staging folder beside the
 * target and renamed into place at the end, so models/<name> is either the old pull, the new one, or absent,
 * never half-written. `.massivit-pull.json` records where the files came from.
 */
import { constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MassivitError } from '../../contracts/errors.js';
import type { FileHash } from './client.js';
import { joinInside } from './paths.js';

const MANIFEST = '.massivit-pull.json';

export interface ManifestFile {
  remote: string;
  local: string;
  size: number;
  hash: FileHash;
}

export interface PullManifest {
  repo: string;
  revision: string;
  commit: string;
  variant: string;
  endpoint: string;
  catalog?: string;
  files: ManifestFile[];
}

export function readManifest(dir: string): PullManifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as PullManifest;
    return typeof m.repo === 'string' && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Same commit, same files, all present with their sizes: nothing to do. */
function upToDate(target: string, manifest: PullManifest): boolean {
  const prev = readManifest(target);
  if (!prev || prev.commit !== manifest.commit || prev.files.length !== manifest.files.length) return false;
  return manifest.files.every((f) => {
    const old = prev.files.find((p) => p.local === f.local);
    if (!old || old.hash.value !== f.hash.value) return false;
    const path = joinInside(target, f.local);
    return existsSync(path) && statSync(path).size === f.size;
  });
}

export interface InstallPlan {
  modelsDir: string;
  name: string;
  manifest: PullManifest;
  /** local path → verified blob in the cache */
  blobs: Map<string, string>;
  force: boolean;
}

/** Returns false when models/<name> already held exactly this pull. */
export function install(plan: InstallPlan): boolean {
  const { modelsDir, name, manifest } = plan;
  mkdirSync(modelsDir, { recursive: true });
  const target = join(modelsDir, name);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new MassivitError('BAD_OUTPUT', `${target} exists and is not a folder`);
    const prev = readManifest(target);
    if (!plan.force && prev?.repo !== manifest.repo) {
      throw new MassivitError('BAD_OUTPUT', `${target} exists and was not pulled from ${manifest.repo}${prev ? ` (it came from ${prev.repo})` : ''}`, 'Pass --name <other> to pull next to it, or --force to replace it.');
    }
    if (!plan.force && upToDate(target, manifest)) return false;
  }
  const stage = mkdtempSync(join(modelsDir, `.${name}.pull-`));
  const old = `${stage}.old`;
  try {
    for (const file of manifest.files) {
      const dest = joinInside(stage, file.local);
      mkdirSync(dirname(dest), { recursive: true });
      // A copy, not a link: editing a model folder must never corrupt the shared cache. FICLONE makes it
      // a free reflink on file systems that support one.
      copyFileSync(plan.blobs.get(file.local)!, dest, constants.COPYFILE_FICLONE);
    }
    writeFileSync(join(stage, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(target)) renameSync(target, old);
    renameSync(stage, target);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw err;
  }
  return true;
}
