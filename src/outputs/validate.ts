/**
 * Shape checks for the files a report reads from a scan folder (scan.json, views/feature-token.json,
 * intervene.json). A scan folder may come from someone else, so every field is checked against its
 * documented type before use: a number that holds markup would otherwise reach the HTML. Each check
 * returns the value typed, or throws a ShapeError naming the field path; `checkFile` turns that into
 * a MassivitError BAD_OUTPUT naming the file. Unknown fields are ignored (later versions may add some).
 */
import { readFileSync } from 'node:fs';
import { errorMessage, MassivitError } from '../contracts/errors.js';

/** A JSON file's parsed content; a file that cannot be read or parsed becomes `fail(why)`. */
export function parseJsonFile(path: string, fail: (why: string) => MassivitError): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw fail(errorMessage(err));
  }
}

class ShapeError extends Error {
  constructor(readonly path: string, readonly expected: string, readonly found: unknown) {
    super(`${path || 'the top level'} must be ${expected}, found ${describe(found)}`);
  }
}

export type Check<T> = (value: unknown, path: string) => T;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function guard<T>(expected: string, ok: (v: unknown) => boolean): Check<T> {
  return (v, path) => {
    if (!ok(v)) throw new ShapeError(path, expected, v);
    return v as T;
  };
}

/** An index or a count. */
export const count: Check<number> = guard('a non-negative integer', (v) => Number.isSafeInteger(v) && (v as number) >= 0);
export const finite: Check<number> = guard('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
/** A measured value: JSON has no NaN, so a statistic that could not be computed is null (shown as "–"). */
export const measure: Check<number | null> = guard('a finite number or null', (v) => v === null || (typeof v === 'number' && Number.isFinite(v)));
export const text: Check<string> = guard('a string', (v) => typeof v === 'string');
export const flag: Check<boolean> = guard('true or false', (v) => typeof v === 'boolean');
export const anything: Check<unknown> = (v) => v;

export function oneOf<T extends string | number>(...values: T[]): Check<T> {
  return guard(`one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, (v) => values.includes(v as T));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path) => (v === null ? null : check(v, path));
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

export function list<T>(item: Check<T>, length?: number): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new ShapeError(path, length === undefined ? 'an array' : `an array of ${length}`, v);
    if (length !== undefined && v.length !== length) throw new ShapeError(path, `an array of ${length}`, `an array of ${v.length}`);
    v.forEach((x, i) => item(x, `${path}[${i}]`));
    return v as T[];
  };
}

export function tuple<T extends unknown[]>(...items: { [K in keyof T]: Check<T[K]> }): Check<T> {
  return (v, path) => {
    list(anything, items.length)(v, path);
    items.forEach((check, i) => check((v as unknown[])[i], `${path}[${i}]`));
    return v as T;
  };
}

type Fields<T> = { [K in keyof T]-?: Check<T[K]> };

/** A plain object with these fields (checked in order); other fields pass through unchecked. */
export function record<T>(fields: Fields<T>): Check<T> {
  return (v, path) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ShapeError(path, 'an object', v);
    for (const key of Object.keys(fields) as (keyof T & string)[]) {
      const value = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
      fields[key](value, path ? `${path}.${key}` : key);
    }
    return v as T;
  };
}

/** Checks a parsed file; a bad field becomes BAD_OUTPUT naming the file and the field path. */
export function checkFile<T>(file: string, check: Check<T>, value: unknown, hint?: string): T {
  try {
    return check(value, '');
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new MassivitError('BAD_OUTPUT', `${file}: ${err.message}`, hint);
  }
}
