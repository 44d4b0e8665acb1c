/**
 * A Hugging Face hub look-alike on 127.0.0.1 for the pull tests: the API listing (`?blobs=true` gives git
 * blob ids and LFS sha256s), `/resolve/` answering LFS files with a 302 to a separate "CDN" server (another
 * origin, so Authorization must not follow) carrying X-Linked-Etag / X-Linked-Size, regular files served
 * directly with their git-blob ETag, Range requests, and faults a test switches on.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface HubFile {
  path: string;
  bytes: Buffer;
  /** Stored in LFS (served through the CDN redirect); default: .onnx and .onnx_data files. */
  lfs?: boolean;
}

export interface FakeRepo {
  id: string;
  sha: string;
  files: HubFile[];
  /** Needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Names listed in the API answer only (hostile listings). */
  extraSiblings?: string[];
}

export interface Faults {
  /** path → how many more GETs of it are cut off half-way. */
  truncate: Map<string, number>;
  /** Paths whose served bytes differ from the announced hash. */
  corrupt: Set<string>;
  /** Paths whose /resolve/ redirects to itself. */
  loop: Set<string>;
  /** Paths whose /resolve/ starts an endless chain of distinct redirects. */
  chain: Set<string>;
  ignoreRange: boolean;
  /** The API ignores ?blobs=true (no hashes in the listing). */
  noBlobs: boolean;
  /** The /resolve/ redirect carries no X-Linked-Size: with noBlobs, LFS files have no announced size. */
  unsized: boolean;
  /** path → send the headers and this many body bytes, then nothing (the connection stays open). */
  drip: Map<path, number>;
  /** path → send the body one byte per this many ms (a drip that never goes fully silent). */
  trickle: Map<path, number>;
  /** path → how many more GETs of it answer 503 first. */
  unavailable: Map<path, number>;
  /** The listing sends its headers and this many bytes, then nothing. */
  dripListing?: number;
  /** path → append this many junk bytes to the body; `announce` puts them in Content-Length, else chunked. */
  oversize: Map<path, { extra: number; announce: boolean }>;
  /** Paths sent with Content-Length of the file but more bytes after it on the wire. */
  pastLength: Set<path>;
  /** path → sent as `Content-Encoding: gzip`: the gzipped file, then this gzip member (see gzipPadding). */
  gzip: Map<path, Buffer>;
  /** The listing is sent gzip-encoded, followed by this gzip member (see gzipPadding). */
  gzipListing?: Buffer;
}

type path = string;

/**
 * A gzip member inflating to `size` copies of `byte`, made before a test starts (compressing tens of MiB
 * inside a request handler would stall this in-process server past the client's timeout). Concatenated
 * gzip members inflate to the concatenation, so it can follow any gzipped body.
 */
export const gzipPadding = (size: number, byte = 0): Buffer => gzipSync(Buffer.alloc(size, byte));

/** Every fault off. */
export const noFaults = (): Faults => ({ truncate: new Map(), corrupt: new Set(), loop: new Set(), chain: new Set(), ignoreRange: false, noBlobs: false, unsized: false, drip: new Map(), trickle: new Map(), unavailable: new Map(), dripListing: undefined, oversize: new Map(), pastLength: new Set(), gzip: new Map(), gzipListing: undefined });

interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  auth?: string;
}

export interface HubServer {
  url: string;
  cdnUrl: string;
  log: LoggedRequest[];
  faults: Faults;
  repos: Map<string, FakeRepo>;
  close(): Promise<void>;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const isLfs = (f: HubFile): boolean => f.lfs ?? /\.onnx(_data)?$/.test(f.path);

function listen(server: Server, scheme: string): Promise<string> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** A key and a self-signed certificate for 127.0.0.1 (openssl), so the HTTPS path runs too; undefined without openssl. */
export function selfSigned(dir: string): { key: Buffer; cert: Buffer; certPath: string } | undefined {
  const key = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certPath];
  if (spawnSync('openssl', args, { stdio: 'ignore' }).status !== 0) return undefined;
  return { key: readFileSync(key), cert: readFileSync(certPath), certPath };
}

/** Serves bytes with Range support; a truncating fault sends the headers of the full answer, then half. */
function sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, etag: string, faults: Faults, path: string): void {
  const over = faults.oversize.get(path);
  if (over && req.method === 'GET') {
    const body = Buffer.concat([bytes, Buffer.alloc(over.extra, 0x42)]);
    res.writeHead(200, { etag, ...(over.announce ? { 'content-length': body.length } : {}) });
    return void res.end(body);
  }
  const bomb = faults.gzip.get(path);
  if (bomb && req.method === 'GET') {
    const body = Buffer.concat([gzipSync(bytes), bomb]);
    res.writeHead(200, { etag, 'content-encoding': 'gzip', 'content-length': body.length });
    return void res.end(body);
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (range && !faults.ignoreRange) {
    start = Number(range[1]);
    if (start >= bytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': bytes.length - start, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`, etag, 'accept-ranges': 'bytes' });
  } else {
    res.writeHead(200, { 'content-length': bytes.length, etag, 'accept-ranges': 'bytes' });
  }
  if (req.method === 'HEAD') return void res.end();
  const body = faults.corrupt.has(path) ? Buffer.from(bytes.map((b) => b ^ 0xff)) : bytes;
  const every = faults.trickle.get(path);
  if (every !== undefined) {
    let at = start;
    const tick = setInterval(() => (at < body.length && !res.destroyed ? res.write(body.subarray(at, ++at)) : clearInterval(tick)), every);
    res.on('close', () => clearInterval(tick));
    return;
  }
  const drip = faults.drip.get(path);
  if (drip !== undefined) return void res.write(body.subarray(start, start + drip)); // and then silence
  if (faults.pastLength.has(path)) {
    // Straight onto the socket, so Node's own Content-Length bookkeeping cannot trim the extra bytes.
    res.write(body.subarray(start), () => res.socket?.end(Buffer.alloc(1 << 20, 0x41)));
    return;
  }
  const left = faults.truncate.get(path) ?? 0;
  if (left > 0) {
    faults.truncate.set(path, left - 1);
    const cut = start + Math.floor((bytes.length - start) / 2);
    // Half the body, then a clean FIN. The pause lets the client drain what it received: a fetch body
    // stream that errors drops chunks still queued in it (WHATWG streams), which would make the
    // resumed offset depend on scheduling.
    res.write(body.subarray(start, cut), () => setTimeout(() => res.socket?.end(), 200));
    return;
  }
  res.end(body.subarray(start));
}

/** With `tls`, both servers speak HTTPS (the hub's real scheme). */
export async function startHub(repos: FakeRepo[], tls?: { key: Buffer; cert: Buffer }): Promise<HubServer> {
  const serve = (handler: RequestListener): Server => (tls ? createHttpsServer(tls, handler) : createServer(handler));
  const scheme = tls ? 'https' : 'http';
  const faults = noFaults();
  const byId = new Map(repos.map((r) => [r.id, r]));
  const log: LoggedRequest[] = [];
  const blobs = new Map<string, { file: HubFile }>();
  for (const r of repos) for (const f of r.files) if (isLfs(f)) blobs.set(sha256(f.bytes), { file: f });
  const record = (server: 'hub' | 'cdn', req: IncomingMessage) =>
    log.push({ server, method: req.method ?? '', path: decodeURIComponent(req.url ?? ''), ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });

  const cdn = serve((req, res) => {
    record('cdn', req);
    const m = /^\/blobs\/([0-9a-f]{64})$/.exec(req.url ?? '');
    const hit = m ? blobs.get(m[1]) : undefined;
    if (!hit || !m) return void res.writeHead(404).end('no such blob');
    sendBytes(req, res, hit.file.bytes, `"${m[1]}"`, faults, hit.file.path);
  });
  const cdnUrl = await listen(cdn, scheme);

  const hub = serve((req, res) => {
    record('hub', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const fail = (status: number, code: string, message: string) => res.writeHead(status, { 'x-error-code': code, 'x-error-message': message, 'content-type': 'application/json' }).end(JSON.stringify({ error: message }));
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
    if (chain) return void res.writeHead(302, { location: `/chain/${Number(chain[1]) + 1}` }).end();
    const id = api?.[1] ?? resolve?.[1];
    const repo = id ? byId.get(id) : undefined;
    if (!repo) return fail(404, 'RepoNotFound', 'Repository not found');
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return fail(401, 'RepoNotFound', 'Invalid username or password.');
    const rev = decodeURIComponent((api ? api[2] : resolve?.[2]) ?? 'main');
    if (rev !== 'main' && rev !== repo.sha) return fail(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    if (api) {
      const blobsWanted = url.searchParams.get('blobs') === 'true' && !faults.noBlobs;
      const siblings = repo.files.map((f) =>
        blobsWanted ? { rfilename: f.path, blobId: gitSha1(f.bytes), size: f.bytes.length, ...(isLfs(f) ? { lfs: { sha256: sha256(f.bytes), size: f.bytes.length, pointerSize: 134 } } : {}) } : { rfilename: f.path },
      );
      for (const name of repo.extraSiblings ?? []) siblings.push({ rfilename: name });
      const json = JSON.stringify({ id: repo.id, modelId: repo.id, sha: repo.sha, siblings });
      if (faults.dripListing !== undefined) return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length }).write(json.slice(0, faults.dripListing));
      if (faults.gzipListing) return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(Buffer.concat([gzipSync(json), faults.gzipListing]));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    }
    const path = decodeURIComponent(resolve![3]);
    if (faults.loop.has(path)) return void res.writeHead(302, { location: url.pathname }).end();
    if (faults.chain.has(path)) return void res.writeHead(302, { location: '/chain/1' }).end();
    const file = repo.files.find((f) => f.path === path);
    if (!file) return fail(404, 'EntryNotFound', `${path} does not exist on ${rev}`);
    const busy = faults.unavailable.get(path) ?? 0;
    if (busy > 0 && req.method === 'GET') {
      faults.unavailable.set(path, busy - 1);
      return fail(503, 'ServiceUnavailable', 'Try again later');
    }
    if (isLfs(file)) {
      const hash = sha256(file.bytes);
      return void res.writeHead(302, { location: `${cdnUrl}/blobs/${hash}`, 'x-linked-etag': `"${hash}"`, ...(faults.unsized ? {} : { 'x-linked-size': String(file.bytes.length) }), etag: `"${hash}"`, 'x-repo-commit': repo.sha }).end();
    }
    sendBytes(req, res, file.bytes, `"${gitSha1(file.bytes)}"`, faults, path);
  });
  const url = await listen(hub, scheme);
  const close = (s: Server) => new Promise<void>((done) => s.close(() => done()));
  return {
    url,
    cdnUrl,
    log,
    faults,
    repos: byId,
    close: async () => {
      hub.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}

/**
 * A server that accepts connections and never answers: not a byte, not a close. With `dripHeaders`, it
 * starts an answer and then sends one header byte every 50 ms, forever (never silent, never done); with
 * `garbage`, it answers with bytes that are not HTTP and keeps the connection open.
 */
export async function startStalledServer(mode: 'silent' | 'dripHeaders' | 'garbage' = 'silent'): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    if (mode === 'garbage') return void socket.write('SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02');
    if (mode !== 'dripHeaders') return;
    socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
    const tick = setInterval(() => (socket.destroyed ? clearInterval(tick) : socket.write('a')), 50);
    socket.on('close', () => clearInterval(tick));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * A port where connecting never completes: a listener (Python, since Node always accepts) whose accept
 * queue of one is filled by a first connection, so Linux drops later SYNs. Undefined without python3.
 */
export async function startUnconnectable(): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (spawnSync('python3', ['--version']).status !== 0) return undefined;
  const code = "import socket,sys,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()";
  const child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((done, fail) => {
    child.stdout.once('data', (d: Buffer) => done(Number(d.toString().trim())));
    child.once('error', fail);
  });
  const filler = connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  await new Promise<void>((done) => filler.once('connect', () => done()));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      filler.destroy();
      child.stdin.end();
      await new Promise<void>((done) => (child.exitCode !== null ? done() : child.once('exit', () => done())));
    },
  };
}
