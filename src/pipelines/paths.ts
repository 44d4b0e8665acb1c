/**
 * Path checks made before any work (before the model is loaded or a file is written): a mistyped --images,
 * --out or --model is one BAD_OPTION / BAD_OUTPUT line naming the flag and the path, exit 2, instead of a
 * stack trace after the probe pass. Nothing here creates or opens anything but stat and access calls.
 */
import { accessSync, constants, existsSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { fileKind } from '../contracts/regular-file.js';
import { assertOutputFolder } from '../store/output-guard.js';

/** What a path that is not a folder or regular file is, in words. */
function bad(code: 'BAD_OPTION' | 'BAD_OUTPUT', message: string, hint?: string): MassivitError {
  return new MassivitError(code, message, hint);
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw bad('BAD_OPTION', `${path} cannot be examined: ${errorMessage(err)}`);
  }
}

function nonEmpty(flag: string, path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') throw bad('BAD_OPTION', `${flag} is empty: expected a path`, `Pass ${flag} <path>`);
  return path;
}

/** An existing, listable folder (--images, a scan folder argument, --scan). */
export function checkInputFolder(flag: string, path: unknown): void {
  const p = nonEmpty(flag, path);
  const info = statOf(p);
  if (!info) throw bad('BAD_OPTION', `${flag} ${p}: no such folder`);
  if (!info.isDirectory()) throw bad('BAD_OPTION', `${flag} ${p} is ${fileKind(info)}, not a folder`);
  try {
    accessSync(p, constants.R_OK | constants.X_OK);
  } catch {
    throw bad('BAD_OPTION', `${flag} ${p}: cannot list the folder (permission denied)`);
  }
}

/** An existing, readable regular file (--intervene). Pipes and devices are refused: reading them may never end. */
export function checkInputFile(flag: string, path: unknown): void {
  const p = nonEmpty(flag, path);
  const info = statOf(p);
  if (!info) throw bad('BAD_OPTION', `${flag} ${p}: no such file`);
  if (!info.isFile()) throw bad('BAD_OPTION', `${flag} ${p} is ${fileKind(info)}, not a regular file`);
}

/** --model: a model folder or an .onnx file that exists (the model itself is checked when it loads). */
export function checkModelPath(flag: string, path: unknown): void {
  const p = nonEmpty(flag, path);
  const info = statOf(p);
  if (!info) throw bad('BAD_OPTION', `${flag} ${p}: no such model folder or .onnx file`, 'massivit models list shows the local models');
  if (!info.isDirectory() && !info.isFile()) throw bad('BAD_OPTION', `${flag} ${p} is ${fileKind(info)}, not a model folder or .onnx file`);
}

/** The nearest existing folder above a path that does not exist yet must be a writable folder. */
function checkCreatable(flag: string, shown: string, path: string): void {
  let above = dirname(path);
  while (!existsSync(above) && dirname(above) !== above) above = dirname(above);
  const info = statOf(above);
  if (!info?.isDirectory()) throw bad('BAD_OUTPUT', `${flag} ${shown} cannot be created: ${above} is ${info ? fileKind(info) : 'missing'}, not a folder`);
  try {
    accessSync(above, constants.W_OK | constants.X_OK);
  } catch {
    throw bad('BAD_OUTPUT', `${flag} ${shown} cannot be created: ${above} is not writable`);
  }
}

/**
 * An output folder: new (its parent must be creatable) or an existing folder. With `storeFile`, an existing
 * folder must also be empty or hold massivit's own store (the scan's guard, reused).
 */
export function checkOutputFolder(flag: string, path: unknown, storeFile?: string): void {
  const p = nonEmpty(flag, path);
  const dir = resolve(p);
  const info = statOf(dir);
  if (!info) return checkCreatable(flag, p, dir);
  if (!info.isDirectory()) throw bad('BAD_OUTPUT', `${flag} ${p} is ${fileKind(info)}, not a folder: refusing to write there`, 'Choose a new folder');
  if (storeFile) assertOutputFolder(dir, p, storeFile);
  else {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw bad('BAD_OUTPUT', `${flag} ${p} is not writable`);
    }
  }
}

/** An output file (--out file.png, --html): not a folder or device; its folder must exist or be creatable. */
export function checkOutputFile(flag: string, path: unknown): void {
  const p = nonEmpty(flag, path);
  const file = resolve(p);
  const info = statOf(file);
  if (info && !info.isFile()) throw bad('BAD_OUTPUT', `${flag} ${p} is ${fileKind(info)}, not a file: refusing to write there`);
  if (!info) checkCreatable(flag, p, file);
}

/** The config.json that decides a model's layout, as loadModel finds it (folder, beside the .onnx, or above onnx/). */
function configOf(modelPath: string): string | undefined {
  const p = resolve(modelPath);
  const dir = statOf(p)?.isDirectory() ? p : dirname(p);
  const candidates = [join(dir, 'config.json'), ...(basename(dir) === 'onnx' ? [join(dirname(dir), 'config.json')] : [])];
  return candidates.find((c) => existsSync(c));
}

/** Bare-.onnx flags are ignored when the model has a config.json: say so instead of ignoring them. */
export function checkBareModelFlags(modelPath: string, flags: Record<string, unknown>): void {
  const given = Object.entries(flags).filter(([, v]) => v !== undefined).map(([k]) => k);
  const config = given.length > 0 ? configOf(modelPath) : undefined;
  if (!config) return;
  const verb = given.length === 1 ? 'applies' : 'apply';
  throw bad('BAD_OPTION', `${given.join(', ')} only ${verb} to a bare .onnx file without config.json; ${modelPath} has ${config}, which sets the layout`, 'Drop the flag, or edit config.json');
}
