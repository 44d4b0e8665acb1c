/**
 * The arithmetic of `massivit bias` (pipelines/bias.ts): the sinks' keys and values summed over images,
 * the slot values built from them, the attention shares on the sinks and the slots, and the effect
 * measures, as the result rows of bias.json (outputs/bias-json.ts).
 */
import { outputEffect } from './effects.js';
import type { AttentionBiasValues } from '../tap/edits.js';

/**
 * The runs compared with the unmodified model. `bias + zero` and `bias only` use one slot (the sinks'
 * mean key and value, offset log S); `per-sink bias + zero` one slot per sink token (its own mean,
 * offset 0), only when there are two sinks or more.
 */
export type BiasVariant = 'original' | 'zero' | 'mean' | 'bias + zero' | 'per-sink bias + zero' | 'bias only';
export const BIAS_VARIANTS: readonly BiasVariant[] = ['original', 'zero', 'mean', 'bias + zero', 'per-sink bias + zero', 'bias only'];

export interface BiasShare {
  block: number;
  /** Mean over images, heads and queries of the attention on the sink tokens (their positions). */
  sinks: number;
  /** ... and on the extra slots together (0 when they have no weight). */
  slot: number;
}

export interface BiasResult {
  variant: BiasVariant;
  /** Classifiers: share of images whose top-1 class is that of the unmodified model. */
  top1Agreement: number | null;
  /** Classifiers: KL(original ‖ variant) of the class distribution in nats, mean and max over images. */
  meanKL: number | null;
  maxKL: number | null;
  /** Cosine of the output embedding to the original, mean and min over images. */
  cosine: { mean: number; min: number };
  /** Attention shares averaged over the biased blocks, and per block. */
  sinkShare: number;
  slotShare: number;
  perBlock: BiasShare[];
}

/** Per block, the sum over images of each sink token's key [H, d] and value [H, d]. */
export class SinkSums {
  readonly keys: Float64Array[];
  readonly values: Float64Array[];
  images = 0;
  constructor(blocks: number, private H: number, private d: number, private T: number, private tokens: number[]) {
    const size = H * d * tokens.length;
    this.keys = Array.from({ length: blocks }, () => new Float64Array(size));
    this.values = Array.from({ length: blocks }, () => new Float64Array(size));
  }

  /** keys [B, H, d, T] and values [B, H, T, d] of block k, as the session exposes them. */
  add(k: number, keys: Float32Array, values: Float32Array, batch: number): void {
    const { H, d, T, tokens } = this;
    const S = tokens.length;
    for (let img = 0; img < batch; img++) {
      for (let h = 0; h < H; h++) {
        for (let j = 0; j < d; j++) {
          tokens.forEach((t, s) => {
            this.keys[k][(h * d + j) * S + s] += keys[((img * H + h) * d + j) * T + t];
            this.values[k][(h * S + s) * d + j] += values[((img * H + h) * T + t) * d + j];
          });
        }
      }
    }
    if (k === 0) this.images += batch;
  }

  /**
   * Slot values of block k in the edit's layout (key [H, d, S], value [H, S, d]). `one`: slot 0 holds
   * the mean over images and sinks, with offset log S (it stands for all S sinks), the rest have no
   * weight. Else slot s holds sink s's mean key and value, offset 0.
   */
  slots(k: number, one: boolean): AttentionBiasValues {
    const { H, d } = this;
    const S = this.tokens.length;
    const n = this.images;
    const key = new Float32Array(H * d * S);
    const value = new Float32Array(H * S * d);
    const logit = new Float32Array(S).fill(one ? -Infinity : 0);
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < d; j++) {
        for (let s = 0; s < S; s++) {
          const [ki, vi] = [(h * d + j) * S + s, (h * S + s) * d + j];
          if (!one) [key[ki], value[vi]] = [this.keys[k][ki] / n, this.values[k][vi] / n];
          else {
            key[(h * d + j) * S] += this.keys[k][ki] / (n * S);
            value[h * S * d + j] += this.values[k][vi] / (n * S);
          }
        }
      }
    }
    if (one) logit[0] = Math.log(S);
    return { kind: 'attention-bias', key, value, logit };
  }
}

/** No slot has weight. */
export function noSlots(H: number, d: number, S: number): AttentionBiasValues {
  return { kind: 'attention-bias', key: new Float32Array(H * d * S), value: new Float32Array(H * S * d), logit: new Float32Array(S).fill(-Infinity) };
}

/** Attention on the sink tokens and on the slots (indices T…), summed per block over images and heads. */
export class Shares {
  private sinks: Float64Array;
  private slot: Float64Array;
  private count = 0;
  constructor(blocks: number, private tokens: number[], private T: number) {
    this.sinks = new Float64Array(blocks);
    this.slot = new Float64Array(blocks);
  }

  /** key_mass per block: [B, H, keys], keys = T + S (the slots last). */
  add(mass: { data: unknown; dims: readonly number[] }[]): void {
    mass.forEach((m, k) => {
      const data = m.data as Float32Array;
      const [B, H, K] = m.dims.map(Number);
      for (let r = 0; r < B * H; r++) {
        for (const t of this.tokens) this.sinks[k] += data[r * K + t];
        for (let t = this.T; t < K; t++) this.slot[k] += data[r * K + t];
      }
      if (k === 0) this.count += B * H;
    });
  }

  perBlock(blocks: number[]): BiasResult['perBlock'] {
    return blocks.map((block, k) => ({ block, sinks: this.sinks[k] / this.count, slot: this.slot[k] / this.count }));
  }
}

export function effect(variant: BiasVariant, mod: Float32Array[], original: Float32Array[], classifier: boolean, shares: Shares, blocks: number[]): BiasResult {
  const perBlock = shares.perBlock(blocks);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    variant,
    ...outputEffect(original, mod, classifier),
    sinkShare: mean(perBlock.map((p) => p.sinks)),
    slotShare: mean(perBlock.map((p) => p.slot)),
    perBlock,
  };
}
