/** `massivit models pull <repo-id>` and `massivit models catalog`, registered on the `models` command. */
import { Command } from 'commander';
import { MassivitError, errorMessage } from '../../contracts/errors.js';
import { checkOutputFolder } from '../../pipelines/paths.js';
import { loadModel } from '../../model/load.js';
import { CATALOG, formatCatalog } from '../../model/hub/catalog.js';
import type { DownloadProgress } from '../../model/hub/download.js';
import { DEFAULT_LIMITS } from '../../model/hub/http.js';
import { pullModel, type PullResult } from '../../model/hub/pull.js';
import { DEFAULT_VARIANT, KNOWN_VARIANTS } from '../../model/hub/select.js';

interface PullFlags {
  revision: string;
  variant: string;
  file?: string;
  name?: string;
  modelsDir: string;
  cacheDir?: string;
  force?: boolean;
  json?: boolean;
  timeout?: string;
  connectTimeout?: string;
  maxSize?: string;
  minSpeed?: string;
  retries?: string;
  retryWait?: string;
}

/** A file-system failure outside the hub code's own checks (models dir is a file, disk full): exit 2, one line. */
function fsFailure(err: unknown): unknown {
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown };
  if (err instanceof MassivitError || typeof e.code !== 'string' || typeof e.syscall !== 'string') return err;
  return new MassivitError('BAD_OUTPUT', `Cannot ${e.syscall} ${typeof e.path === 'string' ? e.path : 'a file'} (${e.code}) while pulling`, 'Check --models-dir and --cache-dir: both must be writable folders with free space.');
}

function megabytes(n: number): string {
  return n < 1e3 ? `${n} B` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** One bar per file on a terminal; plain "downloading" lines otherwise (logs stay readable). */
export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): ((p: DownloadProgress) => void) & { end(): void } {
  const tty = stream.isTTY === true;
  let current = '';
  let last = 0;
  let start = Date.now();
  const finish = () => {
    if (current && tty) stream.write('\n');
    current = '';
  };
  const draw = (p: DownloadProgress) => {
    if (p.file !== current) {
      finish();
      current = p.file;
      start = Date.now();
      last = 0;
      if (!tty) stream.write(`massivit: downloading ${p.file}${p.total !== undefined ? ` (${megabytes(p.total)})` : ''}${p.received > 0 ? `, resuming at ${megabytes(p.received)}` : ''}\n`);
    }
    const now = Date.now();
    const done = p.total !== undefined && p.received >= p.total;
    if (!tty || (now - last < 100 && !done)) return;
    last = now;
    const frac = p.total ? Math.min(1, p.received / p.total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const rate = p.received / Math.max(0.001, (now - start) / 1000);
    const size = p.total !== undefined ? `${megabytes(p.received)}/${megabytes(p.total)}` : megabytes(p.received);
    stream.write(`\r${p.file.padEnd(28).slice(0, 28)} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(frac * 100).toFixed(0).padStart(3)}% ${size} ${megabytes(rate)}/s `);
  };
  return Object.assign(draw, { end: finish });
}

function describePull(r: PullResult): string {
  const fetched = r.files.filter((f) => !f.cached);
  const lines = [
    `${r.upToDate ? 'Up to date' : 'Pulled'}: ${r.repo}@${r.revision} (commit ${r.commit.slice(0, 7)}, ${r.variant}) → ${r.dir}`,
    ...r.files.map((f) => `  ${f.local.padEnd(30)} ${megabytes(f.size).padStart(10)}  ${f.cached ? 'from cache' : 'downloaded'}${f.remote !== f.local ? `  (${f.remote})` : ''}`),
    `  ${fetched.length} downloaded, ${r.files.length - fetched.length} from cache${r.offline ? ' (hub unreachable: offline copy)' : ''}`,
  ];
  if (r.catalog) lines.push(`  catalogue: ${r.catalog.family}, ${r.catalog.sequenceLength} tokens @${r.catalog.resolution}: ${r.catalog.layout}`);
  return lines.join('\n') + '\n';
}

/** A quick look through the loader, so a pull that cannot be scanned says so now rather than at scan time. */
function checkLoadable(dir: string): string {
  try {
    const spec = loadModel(dir);
    const t = spec.tokens;
    const warn = spec.warnings.map((w) => `\nmassivit: warning: ${w}`).join('');
    return `  loads as ${spec.arch.family}: ${spec.arch.numLayers} blocks, hidden ${spec.arch.hiddenSize}, ${t.sequenceLength} tokens (${t.registers.length} registers), ${spec.precision}${warn}\n`;
  } catch (err) {
    return `massivit: warning: the pulled files do not load as a scannable ViT: ${errorMessage(err)}\n`;
  }
}

export function pullCommand(): Command {
  return new Command('pull')
    .argument('<repo-id>', "Hugging Face repo 'owner/name', or a catalogue name (massivit models catalog)")
    .description('download a ViT ONNX model from the Hugging Face hub into models/<name>/ (honours HF_ENDPOINT, HF_TOKEN)')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--variant <v>', `ONNX variant: ${KNOWN_VARIANTS.join('|')} (non-fp32 files distort activation magnitudes)`, DEFAULT_VARIANT)
    .option('--file <path>', 'an explicit ONNX file of the repo instead of --variant')
    .option('--name <name>', 'local folder name (default: catalogue name or the repo name)')
    .option('--models-dir <dir>', 'where model folders go', 'models')
    .option('--cache-dir <dir>', 'download cache (default $MASSIVIT_CACHE or ~/.cache/massivit/hub)')
    .option('--force', 'replace models/<name> even if it came from another repo')
    .option('--timeout <ms>', `give up when an answer's headers take longer than this, or its body is silent this long (default ${DEFAULT_LIMITS.idleTimeoutMs}, $MASSIVIT_HUB_TIMEOUT_MS)`)
    .option('--connect-timeout <ms>', `give up connecting after this long (default ${DEFAULT_LIMITS.connectTimeoutMs}, $MASSIVIT_HUB_CONNECT_TIMEOUT_MS)`)
    .option('--min-speed <bytes/s>', `treat a body slower than this over a whole --timeout window as stalled; 0: off (default ${DEFAULT_LIMITS.minSpeed}, $MASSIVIT_HUB_MIN_SPEED)`)
    .option('--max-size <bytes>', 'largest file accepted (K/M/G/T = x1024, e.g. 8G); files the hub lists as larger are refused (default 64G, $MASSIVIT_HUB_MAX_BYTES)')
    .option('--retries <n>', `extra attempts after a timeout, dropped connection or 429/5xx (default ${DEFAULT_LIMITS.retries}, $MASSIVIT_HUB_RETRIES)`)
    .option('--retry-wait <ms>', `first wait before a retry, doubling each time (default ${DEFAULT_LIMITS.backoffMs}, $MASSIVIT_HUB_BACKOFF_MS)`)
    .option('--json', 'print the result as JSON')
    .action(async (repo: string, flags: PullFlags) => {
      checkOutputFolder('--models-dir', flags.modelsDir);
      if (flags.cacheDir !== undefined) checkOutputFolder('--cache-dir', flags.cacheDir);
      const bar = downloadProgress();
      let result: PullResult;
      try {
        result = await pullModel({
          repo,
          revision: flags.revision,
          variant: flags.variant,
          file: flags.file,
          name: flags.name,
          modelsDir: flags.modelsDir,
          cacheDir: flags.cacheDir,
          force: flags.force,
          limits: {
            ...(flags.timeout !== undefined ? { idleTimeoutMs: flags.timeout } : {}),
            ...(flags.connectTimeout !== undefined ? { connectTimeoutMs: flags.connectTimeout } : {}),
            ...(flags.maxSize !== undefined ? { maxBytes: flags.maxSize } : {}),
            ...(flags.minSpeed !== undefined ? { minSpeed: flags.minSpeed } : {}),
            ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
            ...(flags.retryWait !== undefined ? { backoffMs: flags.retryWait } : {}),
          },
          onProgress: bar,
          onNotice: (m) => {
            bar.end();
            const loud = m.startsWith('WARNING');
            process.stderr.write(loud ? `\n${'!'.repeat(78)}\nmassivit: ${m}\n${'!'.repeat(78)}\n\n` : `massivit: ${m}\n`);
          },
        });
      } catch (err) {
        throw fsFailure(err);
      } finally {
        bar.end();
      }
      if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stderr.write(describePull(result) + checkLoadable(result.dir) + `  scan it: massivit scan --model ${result.dir} --images <dir> --out <dir>\n`);
    });
}

export function catalogCommand(): Command {
  return new Command('catalog')
    .description('known-good ViT repos on the Hugging Face hub, with family and token layout')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      process.stdout.write(flags.json ? JSON.stringify(CATALOG, null, 2) + '\n' : formatCatalog());
    });
}
