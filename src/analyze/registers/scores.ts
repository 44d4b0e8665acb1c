/**
 * Register-neuron scores (pure): per (block, neuron), the mean |activation| of hook_post at the outlier
 * patch tokens against the other patch tokens, accumulated batch by batch, then ranked and cut.
 */

export interface NeuronScore {
  block: number;
  neuron: number;
  /** Mean |a| at the outlier patch tokens. */
  atOutliers: number;
  /** Mean |a| at the other patch tokens. */
  elsewhere: number;
  /** atOutliers / elsewhere; null when the neuron is exactly 0 elsewhere (a planted unit). */
  ratio: number | null;
  /** Sign of the mean signed activation at the outliers: which extreme the register takes. */
  sign: 1 | -1;
}

export class ScoreAccumulator {
  readonly absOut: Float64Array;
  readonly absElse: Float64Array;
  readonly signedOut: Float64Array;
  /** Sum of |a| per (block, neuron, patch): where each neuron fires in the patch grid. */
  readonly byPatch: Float64Array;
  outCount = 0;
  elseCount = 0;
  images = 0;

  constructor(readonly blocks: number, readonly width: number, readonly patches: number) {
    this.absOut = new Float64Array(blocks * width);
    this.absElse = new Float64Array(blocks * width);
    this.signedOut = new Float64Array(blocks * width);
    this.byPatch = new Float64Array(blocks * width * patches);
  }

  /**
   * One batch: `acts[block]` is hook_post [batch, tokens, width]; `outlier[image * patches + p]` marks the
   * outliers of the batch's images (numbered from `firstImage`); patch p is token patchStart + p.
   */
  add(acts: Float32Array[], batch: number, tokens: number, patchStart: number, outlier: Uint8Array, firstImage: number): void {
    const { width, patches } = this;
    for (let i = 0; i < batch; i++) {
      for (let p = 0; p < patches; p++) {
        const out = outlier[(firstImage + i) * patches + p] === 1;
        if (out) this.outCount += 1;
        else this.elseCount += 1;
        for (let blk = 0; blk < acts.length; blk++) {
          const a = acts[blk];
          const row = (i * tokens + patchStart + p) * width;
          const base = blk * width;
          const grid = blk * width * patches;
          for (let h = 0; h < width; h++) {
            const v = a[row + h];
            const abs = Math.abs(v);
            this.byPatch[grid + h * patches + p] += abs;
            if (out) {
              this.absOut[base + h] += abs;
              this.signedOut[base + h] += v;
            } else this.absElse[base + h] += abs;
          }
        }
      }
    }
    this.images += batch;
  }

  /** Scores of every neuron, best first (by the excess atOutliers − elsewhere). */
  ranked(): NeuronScore[] {
    if (this.outCount === 0) return [];
    const scores: NeuronScore[] = [];
    for (let blk = 0; blk < this.blocks; blk++) {
      for (let h = 0; h < this.width; h++) {
        const k = blk * this.width + h;
        const atOutliers = this.absOut[k] / this.outCount;
        const elsewhere = this.elseCount > 0 ? this.absElse[k] / this.elseCount : 0;
        scores.push({ block: blk, neuron: h, atOutliers, elsewhere, ratio: elsewhere > 0 ? atOutliers / elsewhere : null, sign: this.signedOut[k] >= 0 ? 1 : -1 });
      }
    }
    return scores.sort((a, b) => b.atOutliers - b.elsewhere - (a.atOutliers - a.elsewhere));
  }

  /** Mean |a| of one neuron per patch, over the images. */
  grid(block: number, neuron: number): number[] {
    const start = (block * this.width + neuron) * this.patches;
    return Array.from(this.byPatch.subarray(start, start + this.patches), (v) => v / Math.max(1, this.images));
  }
}
