/**
 * How much an intervention changes a model's output, without labels: top-1 agreement and KL divergence of
 * the logits (classifiers), cosine similarity of the output embedding, and leave-one-out kNN accuracy when
 * the image folder has class sub-folders. Plus the seeded choice of random control cells.
 */

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function logSoftmax(v: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += Math.exp(v[i] - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(v as ArrayLike<number>, (x) => x - lse);
}

export interface OutputEffect {
  /** Share of images whose top-1 class stayed (classifiers; else null). */
  top1Agreement: number | null;
  /** Mean and max KL(original ‖ modified) of the class distribution, nats (classifiers; else null). */
  meanKL: number | null;
  maxKL: number | null;
  cosine: { mean: number; min: number };
}

/** How far each image's modified output moved from its original one, over all images. */
export function outputEffect(original: Float32Array[], modified: Float32Array[], classifier: boolean): OutputEffect {
  const n = original.length;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / n;
  const cos = modified.map((v, j) => cosine(original[j], v));
  const kls = classifier ? modified.map((v, j) => klDivergence(original[j], v)) : [];
  return {
    top1Agreement: classifier ? modified.filter((v, j) => argmax(v) === argmax(original[j])).length / n : null,
    meanKL: classifier ? mean(kls) : null,
    maxKL: classifier ? Math.max(...kls) : null,
    cosine: { mean: mean(cos), min: Math.min(...cos) },
  };
}

/** KL(softmax(p) ‖ softmax(q)) in nats: how far the modified logits q moved from the original p. */
function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return Math.max(0, kl);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * Leave-one-out k-nearest-neighbour accuracy (cosine similarity, majority vote; ties go to the label with
 * the larger summed similarity). Every image is classified by the others.
 */
export function knnAccuracy(embeddings: ArrayLike<number>[], labels: string[], k: number): number {
  const n = embeddings.length;
  if (n < 2) return 0;
  const kk = Math.min(k, n - 1);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const sims: [number, number][] = [];
    for (let j = 0; j < n; j++) if (j !== i) sims.push([cosine(embeddings[i], embeddings[j]), j]);
    sims.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    const votes = new Map<string, { n: number; sim: number }>();
    for (const [sim, j] of sims.slice(0, kk)) {
      const v = votes.get(labels[j]) ?? { n: 0, sim: 0 };
      v.n += 1;
      v.sim += sim;
      votes.set(labels[j], v);
    }
    const winner = [...votes].sort((x, y) => y[1].n - x[1].n || y[1].sim - x[1].sim)[0][0];
    if (winner === labels[i]) correct += 1;
  }
  return correct / n;
}

/** Small seeded PRNG (mulberry32): the control cells are reproducible from --seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CONTROL_RULE = 'random (token, dim) cells, not targets, whose dataset-mean |a| is at most 10x the median over all cells of the layer';

/**
 * `count` random cells of ordinary magnitude (CONTROL_RULE), as flat indices token * dims + dim, ascending.
 * meanAbs: dataset-mean |a| of every cell of the layer [tokens * dims].
 */
export function controlCells(meanAbs: Float64Array, exclude: Set<number>, count: number, seed: number): number[] {
  const sorted = Float64Array.from(meanAbs).sort();
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const candidates: number[] = [];
  for (let i = 0; i < meanAbs.length; i++) if (!exclude.has(i) && meanAbs[i] <= 10 * median) candidates.push(i);
  const rand = seededRandom(seed);
  // Partial Fisher–Yates: the first `count` entries become a uniform random sample.
  const n = Math.min(count, candidates.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  return candidates.slice(0, n).sort((a, b) => a - b);
}

/**
 * A seeded derangement of 0…n−1 (Sattolo's algorithm: a uniformly random n-cycle), so every image takes
 * its cells from another image of the set. n ≥ 2.
 */
export function derangement(n: number, seed: number): number[] {
  if (n < 2) throw new RangeError(`a derangement needs at least 2 items, got ${n}`);
  const p = Array.from({ length: n }, (_, i) => i);
  const rand = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Seeded standard-normal draws (Box–Muller on mulberry32). */
export function seededNormal(seed: number): () => number {
  const rand = seededRandom(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log stays finite
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rand();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** Per-cell dataset moments from running sums: mean and (population) standard deviation. */
export function moments(sum: number, sumSq: number, n: number): { mean: number; sd: number } {
  const mean = sum / n;
  return { mean, sd: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
}
