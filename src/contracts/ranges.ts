/**
 * The accepted range of every numeric option, in one place: the CLI parses flags against it and the library
 * entry points check their options against it, so a library caller gets the same BAD_OPTION as a CLI user
 * instead of a crash, a hang or a silent nonsense run (`--batch 1e9`, `--threads 1e6`, `--max-pixels 1e20`).
 * Bounds are generous: anything outside them is a typo, not an experiment.
 */
import { invalidOption } from './errors.js';

export interface Range {
  /** The flag as the user types it; errors name it. */
  flag: string;
  min: number;
  max: number;
  integer: boolean;
  /** The minimum itself is excluded (thresholds must be > 0). */
  minExclusive?: boolean;
}

const int = (flag: string, min: number, max: number): Range => ({ flag, min, max, integer: true });
const positive = (flag: string, max: number): Range => ({ flag, min: 0, max, integer: false, minExclusive: true });

export const RANGES = {
  batch: int('--batch', 1, 1024),
  // ONNX Runtime starts one thread per unit: a million threads hang the machine, 256 covers any node.
  threads: int('--threads', 0, 256),
  topK: int('--top-k', 1, 4096),
  limit: int('--limit', 1, 1e9),
  // sharp takes the pixel limit as an int64-sized count; 1e10 is a 100,000 × 100,000 image.
  maxPixels: int('--max-pixels', 1, 1e10),
  seed: int('--seed', 0, 2 ** 32 - 1),
  // Layer and block indices: the model's own depth is checked once it is open; ViTs have far fewer.
  at: int('--at', 0, 4096),
  layer: int('--layer', 0, 4096),
  imageSize: int('--image-size', 1, 16384),
  patchSize: int('--patch-size', 1, 1024),
  registers: int('--registers', 0, 1024),
  shardCount: int('--shard', 1, 1_000_000),
  absThreshold: positive('--abs-threshold', 1e6),
  ratioThreshold: positive('--ratio-threshold', 1e6),
  nearMissFactor: positive('--near-miss-factor', 1),
  outlierRatio: positive('--outlier-ratio', 1e6),
  outlierShare: positive('--outlier-share', 1),
  normThreshold: positive('--norm-threshold', 1e6),
  // registers find: the detection layer is a block output (1 … N), the outlier and neuron filters.
  detectionLayer: int('--layer', 1, 4096),
  outlierNorm: positive('--threshold', 1e9),
  normRatio: { flag: '--norm-ratio', min: 0, max: 1e9, integer: false },
  topNeurons: int('--top', 0, 1e6),
  neuronRatio: { flag: '--neuron-ratio', min: 0, max: 1e12, integer: false },
} satisfies Record<string, Range>;

export type RangeName = keyof typeof RANGES;

/** "an integer in 1…1024" / "a number in (0, 1]" */
function describeRange(r: Range): string {
  if (r.integer) return `an integer in ${r.min}…${r.max}`;
  return `a number in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}]`;
}

function inRange(r: Range, n: number): boolean {
  if (!Number.isFinite(n) || (r.integer && !Number.isInteger(n))) return false;
  return (r.minExclusive ? n > r.min : n >= r.min) && n <= r.max;
}

/** Library check: the value (or undefined, meaning "the default") must lie in the option's range. */
export function checkRange(name: RangeName, value: unknown): void {
  const r = RANGES[name];
  if (value === undefined) return;
  if (typeof value !== 'number' || !inRange(r, value)) throw invalidOption(r.flag, describeRange(r), value);
}

// Plain decimal (1e8 included) only: Number() would also read '0x10' as 16, '' as 0 and 'Infinity' as a number.
const DECIMAL = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses a flag's text against its range; the message is what follows "argument 'x' is invalid." */
export function parseInRange(r: Range, text: string): { value: number } | { error: string } {
  const ok = DECIMAL.test(text.trim());
  const n = ok ? Number(text) : NaN;
  return inRange(r, n) ? { value: n } : { error: `expected ${describeRange(r)}, got '${text}'` };
}
