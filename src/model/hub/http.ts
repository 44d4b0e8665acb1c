/**
 * The hub's transport: one HTTP(S) request on node:http with a connect timeout, an idle timeout (no byte
 * for that long, headers or body) and no automatic decompression, so a hostile or broken server can
 * neither hang a pull nor expand a body past the size it announced. Global fetch offered neither: its
 * header and body timeouts are fixed at 5 minutes and it decompresses gzip behind the caller's back.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MassivitError } from '../../contracts/errors.js';

export interface HubLimits {
  /** TCP connect (DNS included), per request. */
  connectTimeoutMs: number;
  /** Once connected: the longest wait for the response headers, and the longest silence in a body. */
  idleTimeoutMs: number;
  /** A body slower than this (bytes/s) over a whole idle-timeout window is a stall too (curl's --speed-limit); 0: off. */
  minSpeed: number;
  /** The most bytes one file may have when the hub announces no size; an announced size above it is refused. */
  maxBytes: number;
  /** Extra attempts after a timeout, a dropped connection or a 429/5xx answer. */
  retries: number;
  /** First wait before a retry; it doubles each time (capped at 30 s). */
  backoffMs: number;
}

export const DEFAULT_LIMITS: HubLimits = { connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, minSpeed: 1024, maxBytes: 64 * 1024 ** 3, retries: 2, backoffMs: 1000 };

/** Each limit's flag and environment variable, for parsing and for messages that name what to change. */
export const LIMIT_SOURCES: Record<keyof HubLimits, { flag: string; env: string; min: number; max: number }> = {
  connectTimeoutMs: { flag: '--connect-timeout', env: 'MASSIVIT_HUB_CONNECT_TIMEOUT_MS', min: 1, max: 3_600_000 },
  idleTimeoutMs: { flag: '--timeout', env: 'MASSIVIT_HUB_TIMEOUT_MS', min: 1, max: 3_600_000 },
  minSpeed: { flag: '--min-speed', env: 'MASSIVIT_HUB_MIN_SPEED', min: 0, max: Number.MAX_SAFE_INTEGER },
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

const source = (key: keyof HubLimits): string => `${LIMIT_SOURCES[key].flag}, ${LIMIT_SOURCES[key].env}`;

/** The server took too long: which wait ran out (connect, response headers, body silence, body speed). */
export class HubTimeout extends Error {
  constructor(readonly phase: 'connect' | 'headers' | 'idle' | 'slow', limits: HubLimits) {
    const ms = phase === 'connect' ? limits.connectTimeoutMs : limits.idleTimeoutMs;
    super(
      phase === 'connect' ? `no connection within ${ms} ms (${source('connectTimeoutMs')})`
        : phase === 'headers' ? `no answer within ${ms} ms (${source('idleTimeoutMs')})`
          : phase === 'idle' ? `no data for ${ms} ms (${source('idleTimeoutMs')})`
            : `slower than ${limits.minSpeed} bytes/s for ${ms} ms (${source('minSpeed')})`,
    );
  }
}

/** Call with each body chunk's size: throws HubTimeout('slow') when a whole window fell below minSpeed. */
export function speedCheck(limits: HubLimits): (bytes: number) => void {
  let start = Date.now();
  let bytes = 0;
  return (n) => {
    bytes += n;
    const elapsed = Date.now() - start;
    if (limits.minSpeed === 0 || elapsed < limits.idleTimeoutMs) return;
    if ((bytes * 1000) / elapsed < limits.minSpeed) throw new HubTimeout('slow', limits);
    start = Date.now();
    bytes = 0;
  };
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
    let timer = setTimeout(() => fail(new HubTimeout('connect', limits)), limits.connectTimeoutMs);
    // A late socket error (e.g. bytes past Content-Length) must not become an uncaught exception.
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('socket', (socket) => {
      const connected = () => {
        clearTimeout(timer);
        // A deadline, not a silence: headers dripped a byte at a time must not hold the request open.
        timer = setTimeout(() => fail(new HubTimeout('headers', limits)), limits.idleTimeoutMs);
        socket.setTimeout(limits.idleTimeoutMs, () => fail(new HubTimeout(response ? 'idle' : 'headers', limits)));
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      response = res;
      res.on('error', () => undefined); // reported to whoever reads the body
      res.once('end', () => req.destroy()); // no keep-alive: nothing may linger after the body
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

/** A server-sent string fit for a one-line message: control characters become spaces, at most `max` long. */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The wait before retry number `attempt` (0-based): backoff, 2×, 4×… capped at 30 s. */
export function backoff(limits: HubLimits, attempt: number): number {
  return Math.min(30_000, limits.backoffMs * 2 ** attempt);
}
