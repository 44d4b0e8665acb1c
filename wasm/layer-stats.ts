// AssemblyScript source of src/analyze/layer-stats-wasm.ts (compile: npm run build:wasm).
//
// Per-image statistics of one hidden state [tokens, dims] (float32, in linear memory at `x`), the same as
// the JS reference in src/analyze/layer-stats.ts, with 128-bit SIMD and one pass over the floats.
// |a| is compared as IEEE-754 bits: for non-negative floats, bit order is value order.
//   1. A sample of |a| spread over tokens and dims gives a bracket [lo, hi] that holds the median with high probability
//      (sample ranks q ± margin, q the median's rank scaled to the sample).
//   2. One pass: token L2 norms, top-k by |a| (insert only when a lane beats the current k-th), the count
//      of |a| below lo, the members of the bracket (stored branch-free with a shuffle table), and the cells
//      that may pass a threshold (rare; thresholds are at least those of a median equal to lo).
//   3. If the median's rank falls among the members, a radix selection among them gives it exactly;
//      otherwise (the sample was unlucky) the selection runs over every cell. Exact either way.
// Scratch layout (bytes from `scratch`): hist 4096 × i32 | members (n + 4) × i32 | candidates n × i32;
// the sample borrows the members area before the pass.
// Results (from `out`): topBits k × i32 | topIdx k × i32 | norms tokens × f32 | dimMassive dims × i32 |
// dimOutlier dims × i32; the median is the return value.

const ABS: i32 = 0x7fffffff;
const BINS: u32 = 4096;

// COMPRESS[mask] moves the lanes set in a 4-bit mask to the front of a vector (i8x16.swizzle indices).
const COMPRESS: usize = memory.data(256, 16);
for (let mask = 0; mask < 16; mask++) {
  let w = 0;
  for (let lane = 0; lane < 4; lane++) {
    if (((mask >> lane) & 1) == 0) continue;
    for (let byte = 0; byte < 4; byte++) {
      store<u8>(COMPRESS + (<usize>mask << 4) + <usize>w, <u8>(lane * 4 + byte));
      w++;
    }
  }
}

@inline function bitsOf(v: f32): i32 {
  return reinterpret<i32>(v);
}

@inline function valueOf(b: i32): f32 {
  return reinterpret<f32>(b);
}

@inline function at(a: usize, i: i32): i32 {
  return load<i32>(a + (<usize>i << 2));
}

@inline function put(a: usize, i: i32, v: i32): void {
  store<i32>(a + (<usize>i << 2), v);
}

function massiveBits(median: f32, ratio: f32, absThreshold: f32): i32 {
  return bitsOf(max<f32>(median * ratio, absThreshold));
}

/** Inserts (b, idx) into the sorted top list if it beats the k-th; returns the new k-th bits. */
@inline function insert(topBits: usize, topIdx: usize, k: i32, b: i32, idx: i32): i32 {
  let j = k - 1;
  while (j > 0 && b > at(topBits, j - 1)) {
    put(topBits, j, at(topBits, j - 1));
    put(topIdx, j, at(topIdx, j - 1));
    j--;
  }
  put(topBits, j, b);
  put(topIdx, j, idx);
  return at(topBits, k - 1);
}

function gcd(a: i32, b: i32): i32 {
  while (b != 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** The rank-th smallest of a[0..n) (quickselect; reorders a). */
function select(a: usize, n: i32, rank: i32): i32 {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const x = at(a, lo);
    const y = at(a, lo + ((hi - lo) >> 1));
    const z = at(a, hi);
    const pivot = max<i32>(min<i32>(x, y), min<i32>(max<i32>(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (at(a, i) < pivot) i++;
      while (at(a, j) > pivot) j--;
      if (i <= j) {
        const t = at(a, i);
        put(a, i, at(a, j));
        put(a, j, t);
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else return at(a, rank); // between the partitions: equal to the pivot
  }
  return at(a, lo);
}

/**
 * The rank-th smallest of a[0..m), all in [base, top]: radix selection with up to 4096 bins per round,
 * keeping only the chosen bin's members (at most three rounds for 31-bit values). Reorders a.
 */
function radixSelect(a: usize, m: i32, rank: i32, base: u32, top: u32, hist: usize): i32 {
  let span = top - base;
  while (true) {
    let shift: u32 = 0;
    while ((span >> shift) >= BINS) shift++;
    const bins = (span >> shift) + 1;
    memory.fill(hist, 0, <usize>bins << 2);
    for (let j = 0; j < m; j++) {
      const p = hist + (<usize>((<u32>at(a, j) - base) >> shift) << 2);
      store<i32>(p, load<i32>(p) + 1);
    }
    let below = 0;
    let bin: u32 = 0;
    while (below + at(hist, bin) <= rank) below += at(hist, bin++);
    rank -= below;
    if (shift == 0) return <i32>(base + bin);
    let w = 0;
    for (let j = 0; j < m; j++) {
      const v = at(a, j);
      if ((<u32>v - base) >> shift == bin) put(a, w++, v);
    }
    m = w;
    base += bin << shift;
    span = (<u32>1 << shift) - 1;
  }
  return 0; // unreachable
}

export function stats(
  x: usize, tokens: i32, dims: i32, k: i32,
  ratio: f32, absThreshold: f32, outlierRatio: f32,
  out: usize, scratch: usize, sampleSize: i32, margin: i32,
): f32 {
  const n = tokens * dims;
  const hist = scratch;
  const members = hist + (<usize>BINS << 2);
  const candidates = members + (<usize>(n + 4) << 2);
  const topBits = out;
  const topIdx = topBits + (<usize>k << 2);
  const norms = topIdx + (<usize>k << 2);
  const dimMassive = norms + (<usize>tokens << 2);
  const dimOutlier = dimMassive + (<usize>dims << 2);
  // The lower median is the r-th smallest |a|, r = floor((n - 1) / 2).
  const r = (n - 1) >> 1;
  // 1. The bracket, from a sample held in the members area for now.
  const s = min<i32>(max<i32>(sampleSize, 1), n);
  // Positions j × step mod n, step coprime with n near n / golden ratio: spread over tokens and dims alike
  // (a plain stride sharing a factor with the width would sample only a few dims).
  let step = <i32>(<f64>n * 0.6180339887498949);
  while (gcd(step, n) != 1) step++;
  for (let j = 0, pos = 0; j < s; j++) {
    put(members, j, at(x, pos) & ABS);
    pos += step;
    if (pos >= n) pos -= n;
  }
  const q = <i32>((<i64>r * s) / n);
  const lo = q - margin < 0 ? 0 : select(members, s, q - margin);
  const hi = q + margin >= s ? ABS : select(members, s, q + margin);
  const low = valueOf(lo);
  // Thresholds only rise with the median, so for a median >= lo these bounds catch every cell that passes.
  let candidateBits = min<i32>(massiveBits(low, ratio, absThreshold), bitsOf(low * outlierRatio));
  // 2. The pass.
  for (let j = 0; j < k; j++) put(topBits, j, -1);
  let floor: i32 = -1;
  // Lanes above this need a scalar look: a new top-k cell or a threshold candidate.
  let thrV = i32x4.splat(min<i32>(floor, candidateBits));
  const mask = i32x4.splat(ABS);
  const loV = i32x4.splat(lo);
  const hiV = i32x4.splat(hi);
  let belowV = i32x4.splat(0);
  let below = 0;
  let m = 0;
  let c = 0;
  const vecDims = dims & ~3;
  for (let t = 0; t < tokens; t++) {
    const row = x + (<usize>(t * dims) << 2);
    let sq = f32x4.splat(0);
    let d = 0;
    for (; d < vecDims; d += 4) {
      const v = v128.load(row + (<usize>d << 2));
      sq = f32x4.add(sq, f32x4.mul(v, v));
      const b = v128.and(v, mask);
      const under = i32x4.lt_s(b, loV);
      belowV = i32x4.sub(belowV, under); // a true lane is -1
      const inside = i32x4.bitmask(v128.andnot(i32x4.le_s(b, hiV), under));
      v128.store(members + (<usize>m << 2), i8x16.swizzle(b, v128.load(COMPRESS + (<usize>inside << 4))));
      m += popcnt<i32>(inside);
      if (v128.any_true(i32x4.gt_s(b, thrV))) {
        const base = t * dims + d;
        for (let lane = 0; lane < 4; lane++) {
          const bl = load<i32>(row + (<usize>(d + lane) << 2)) & ABS;
          if (bl > floor) floor = insert(topBits, topIdx, k, bl, base + lane);
          if (bl > candidateBits) put(candidates, c++, base + lane);
        }
        thrV = i32x4.splat(min<i32>(floor, candidateBits));
      }
    }
    let sum: f32 = f32x4.extract_lane(sq, 0) + f32x4.extract_lane(sq, 1) + f32x4.extract_lane(sq, 2) + f32x4.extract_lane(sq, 3);
    for (; d < dims; d++) {
      const v = load<f32>(row + (<usize>d << 2));
      sum += v * v;
      const b = bitsOf(v) & ABS;
      if (b < lo) below++;
      else if (b <= hi) put(members, m++, b);
      if (b > floor) floor = insert(topBits, topIdx, k, b, t * dims + d);
      if (b > candidateBits) put(candidates, c++, t * dims + d);
    }
    thrV = i32x4.splat(min<i32>(floor, candidateBits));
    store<f32>(norms + (<usize>t << 2), sqrt<f32>(sum));
  }
  below += i32x4.extract_lane(belowV, 0) + i32x4.extract_lane(belowV, 1) + i32x4.extract_lane(belowV, 2) + i32x4.extract_lane(belowV, 3);
  // 3. The exact median.
  let median: i32;
  if (below <= r && r < below + m) {
    median = radixSelect(members, m, r - below, <u32>lo, <u32>hi, hist);
  } else {
    // The bracket missed: select among every cell, and collect the candidates again with exact thresholds.
    for (let i = 0; i < n; i++) put(members, i, at(x, i) & ABS);
    median = radixSelect(members, n, r, 0, <u32>ABS, hist);
    const med = valueOf(median);
    candidateBits = min<i32>(massiveBits(med, ratio, absThreshold), bitsOf(med * outlierRatio));
    c = 0;
    for (let i = 0; i < n; i++) if ((at(x, i) & ABS) > candidateBits) put(candidates, c++, i);
  }
  const med = valueOf(median);
  const massive = massiveBits(med, ratio, absThreshold);
  const outlier = bitsOf(med * outlierRatio);
  memory.fill(dimMassive, 0, <usize>dims << 3);
  for (let j = 0; j < c; j++) {
    const flat = at(candidates, j);
    const b = at(x, flat) & ABS;
    const d = flat % dims;
    if (b > massive) put(dimMassive, d, at(dimMassive, d) + 1);
    if (b > outlier) put(dimOutlier, d, at(dimOutlier, d) + 1);
  }
  return med;
}
