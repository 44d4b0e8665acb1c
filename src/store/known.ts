/**
 * Which image contents a scan store already holds, looked up live (WAL: sees every batch the scan has
 * committed), so the decode stage skips a file whose bytes were analysed before. The decode worker loads
 * this module by the URL the scan passes it (DecodeOptions.lookup): run/ never imports the store.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { ContentLookup } from '../run/decode.js';


/** @public Loaded by URL (CONTENT_LOOKUP_MODULE), so no import names it. */
export function openContentLookup(store: string | undefined): ContentLookup {
  if (!store || !existsSync(store)) return { known: () => false, close: () => {} };
  const db = new Database(store, { readonly: true, fileMustExist: true });
  const stmt = db.prepare('SELECT 1 FROM images WHERE hash = ?');
  return { known: (hash) => stmt.get(hash) !== undefined, close: () => db.close() };
}

/** The URL a scan hands the decode stage as `lookup`. */
export const CONTENT_LOOKUP_MODULE = import.meta.url;
