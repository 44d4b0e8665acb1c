/** ONNX Runtime sessions: CUDA when asked for and installed, CPU otherwise, with a clear notice on fallback. */
import ort from 'onnxruntime-node';
import { invalidOption, MassivitError, errorMessage } from '../contracts/errors.js';

export type Device = 'auto' | 'cpu' | 'cuda';
export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda'];

export interface RunOptions {
  device: Device;
  /** Intra-op threads; 0 lets ONNX Runtime decide. */
  threads: number;
}

export interface OpenSession {
  session: ort.InferenceSession;
  device: 'cpu' | 'cuda';
  /** Set when CUDA was asked for but could not be used. */
  notice?: string;
}

const CUDA_HELP = 'Install the CUDA build with: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (see README, "GPU (CUDA)")';

function options(threads: number, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Idle intra-op threads sleep instead of spinning: between forward passes the cores belong to the decode
    // workers (sharp) and the analysis, which spinning threads would slow down (BENCHMARKS.md).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    // A failed CUDA attempt would otherwise print ORT's own error; our notice says what happened.
    logSeverityLevel: providers.includes('cuda') ? 4 : 3,
  };
}

export async function createSession(bytes: Uint8Array, opts: RunOptions): Promise<OpenSession> {
  if (!DEVICES.includes(opts.device)) throw invalidOption('--device', `one of ${DEVICES.join(', ')}`, opts.device);
  if (!Number.isInteger(opts.threads) || opts.threads < 0) throw invalidOption('--threads', 'an integer >= 0', opts.threads);
  // ORT's own logger prints a failed CUDA provider load as an error; the notice below says it plainly. Set
  // here, not at import, so importing this module changes nothing.
  ort.env.logLevel = 'fatal';
  // ONNX Runtime's telemetry (a device id and event database under ~/.cache/Microsoft/DeveloperTools, uploads
  // to mobile.events.data.microsoft.com) stays off unless the user set ORT_DISABLE_TELEMETRY themselves (0 = on).
  // It is read when the first session is created, so setting it here, before that, is enough.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  if (opts.device !== 'cpu') {
    try {
      return { session: await ort.InferenceSession.create(bytes, options(opts.threads, ['cuda'])), device: 'cuda' };
    } catch (err) {
      const reason = `CUDA execution provider unavailable (${errorMessage(err).split('\n')[0]})`;
      if (opts.device === 'cuda') throw new MassivitError('BAD_OPTION', `--device cuda: ${reason}`, CUDA_HELP);
      const session = await ort.InferenceSession.create(bytes, options(opts.threads, ['cpu']));
      return { session, device: 'cpu', notice: `${reason}; running on CPU. ${CUDA_HELP}` };
    }
  }
  return { session: await ort.InferenceSession.create(bytes, options(opts.threads, ['cpu'])), device: 'cpu' };
}

export { ort };
