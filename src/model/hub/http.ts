/**
 * The hub's transport: one HTTP(S) request on node:http with a connect timeout, an idle timeout (no byte
 * for that long, headers or body) and no automatic decompression, so a hostile or broken server can
 * neither hang a pull nor expand a body past the size it announced. Global fetch offered neither: its
 * header and body timeouts are fixed at 5 minutes and it decompresses gzip behind the caller's back.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MassivitError } from '../../errors.js';

export interface HubLimits {
  /** TCP connect (DNS included), per request. */
  connectTimeoutMs: number;
  /** The longest silence once connected: waiting for headers, or for the next body bytes. */
  idleTimeoutMs: number;
  /** The most bytes one file may have when the hub announces no size; an announced size above it is refused. */
  maxBytes: number;
  /** Extra attempts after a timeout, a dropped connection or a 429/5xx answer. */
  retries: number;
  /** First wait before a retry; it doubles each time (capped at 30 s). */
  backoffMs: number;
}

export const DEFAULT_LIMITS: HubLimits = { connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBytes: 64 * 1024 ** 3, retries: 2, backoffMs: 1000 };

/** Each limit's flag and environment variable, for parsing and for messages that name what to change. */
export const LIMIT_SOURCES: Record<keyof HubLimits, { flag: string; env: string; min: number; max: number }> = {
  connectTimeoutMs: { flag: '--connect-timeout', env: 'MASSIVIT_HUB_CONNECT_TIMEOUT_MS', min: 1, max: 3_600_000 },
  idleTimeoutMs: { flag: '--timeout', env: 'MASSIVIT_HUB_TIMEOUT_MS', min: 1, max: 3_600_000 },
  maxBytes: { flag: '--max-size', env: 'MASSIVIT_HUB_MAX_BYTES', min: 1, max: Number.MAX_SAFE_INTEGER },
  retries: { flag: '--retries', env: 'MASSIVIT_HUB_RETRIES', min: 0, max: 20 },
  backoffMs: { flag: '--retry-wait', env: 'MASSIVIT_HUB_BACKOFF_MS', min: 0, max: 60_000 },
};

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Decimal digits only (no hex, no exponent), with K/M/G/T (×1024) for byte sizes; throws naming the source. */
function parseLimit(key: keyof HubLimits, raw: string | number, from: string): number {
  const { min, max } = LIMIT_SOURCES[key];
  const text = String(raw).trim();
  const m = key === 'maxBytes' ? /^(\d{1,16})([KMGT]?)$/i.exec(text) : /^(\d{1,16})()$/.exec(text);
  const value = m ? Number(m[1]) * UNITS[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const what = key === 'maxBytes' ? `a size in bytes from ${min} (K, M, G, T allowed)` : `an integer from ${min} to ${max}`;
    throw new MassivitError('BAD_OPTION', `Expected ${what} for ${from} but received '${text}'`);
  }
  return value;
}

/** Flags (overrides) win over MASSIVIT_HUB_* environment variables, which win over the defaults. */
export function hubLimits(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof HubLimits, string | number>> = {}): HubLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_SOURCES) as (keyof HubLimits)[]) {
    const { flag, env: name } = LIMIT_SOURCES[key];
    const override = overrides[key];
    if (override !== undefined) limits[key] = parseLimit(key, override, flag);
    else if ((env[name] ?? '').trim() !== '') limits[key] = parseLimit(key, env[name]!, name);
  }
  return limits;
}

/** No answer in time: which wait ran out, and how long it was. */
export class HubTimeout extends Error {
  constructor(readonly phase: 'connect' | 'idle', readonly ms: number) {
    const source = LIMIT_SOURCES[phase === 'connect' ? 'connectTimeoutMs' : 'idleTimeoutMs'];
    super(`${phase === 'connect' ? 'no connection' : 'no data'} within ${ms} ms (the ${phase} timeout: ${source.flag}, ${source.env})`);
  }
}

export interface RawResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The body as bytes exactly as sent (never decompressed); errors with HubTimeout when it goes idle. */
  body: IncomingMessage;
  header(name: string): string | undefined;
  /** Drop the body and close the connection (there is no connection reuse to protect). */
  discard(): void;
}

/** One request, one fresh connection (agent: false, so every timeout covers a real connect). */
export function send(url: URL, method: 'GET' | 'HEAD', headers: OutgoingHttpHeaders, limits: HubLimits): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, agent: false });
    let response: IncomingMessage | undefined;
    const fail = (err: Error) => (response ? response.destroy(err) : req.destroy(err));
    const connectTimer = setTimeout(() => fail(new HubTimeout('connect', limits.connectTimeoutMs)), limits.connectTimeoutMs);
    // A late socket error (e.g. bytes past Content-Length) must not become an uncaught exception.
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.on('socket', (socket) => {
      const connected = () => {
        clearTimeout(connectTimer);
        socket.setTimeout(limits.idleTimeoutMs, () => fail(new HubTimeout('idle', limits.idleTimeoutMs)));
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
    req.on('response', (res) => {
      response = res;
      res.on('error', () => undefined); // reported to whoever reads the body
      const header = (name: string): string | undefined => {
        const v = res.headers[name.toLowerCase()];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: res, header, discard: () => res.destroy() });
    });
    req.end();
  });
}

/** A whole (small) body, refusing it past `cap` bytes. */
export async function readCapped(res: RawResponse, cap: number, what: string): Promise<Buffer> {
  const announced = Number(res.header('content-length') ?? NaN);
  if (announced > cap) {
    res.discard();
    throw new MassivitError('NETWORK', `The answer for ${what} announces ${announced} bytes, more than the ${cap} accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) {
      res.discard();
      throw new MassivitError('NETWORK', `The answer for ${what} is larger than the ${cap} bytes accepted: stopped reading it`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The wait before retry number `attempt` (0-based): backoff, 2×, 4×… capped at 30 s. */
export function backoff(limits: HubLimits, attempt: number): number {
  return Math.min(30_000, limits.backoffMs * 2 ** attempt);
}
