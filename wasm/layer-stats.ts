// AssemblyScript source of src/analyze/layer-stats-wasm.ts (compile: npm run build:wasm).
//
// Per-image statistics of one hidden state [tokens, dims] (float32, in linear memory at `x`), the same as
// the JS reference in src/analyze/layer-stats.ts, with 128-bit SIMD: two passes over the floats.
// |a| is compared as IEEE-754 bits: for non-negative floats, bit order is value order.
//   pass 1: token L2 norms, top-k by |a| (insert only when a lane beats the current k-th), and a histogram
//           of the top 12 bits of |a| (sign cleared: 8 exponent + 4 mantissa bits);
//   pass 2: the members of the median's bin, and the cells that may pass a threshold (rare);
//   then the exact median by radix selection among the members (bits 7..18, then 0..6), and the per-dim counts.
// Scratch layout (bytes from `scratch`): hist 4096 × i32 | hist2 4096 × i32 | members n × i32 | candidates n × i32.
// Results (from `out`): topBits k × i32 | topIdx k × i32 | norms tokens × f32 | dimMassive dims × i32 |
// dimOutlier dims × i32; the median is the return value.

const ABS: i32 = 0x7fffffff;
const SHIFT1: u32 = 19; // 4096 bins over bits 19..30
const SHIFT2: u32 = 7; //  4096 bins over bits 7..18, within the first bin
const BINS: i32 = 4096;

@inline function bitsOf(v: f32): i32 {
  return reinterpret<i32>(v);
}

@inline function valueOf(b: i32): f32 {
  return reinterpret<f32>(b);
}

function massiveBits(median: f32, ratio: f32, absThreshold: f32): i32 {
  return bitsOf(max<f32>(median * ratio, absThreshold));
}

/** Inserts (b, idx) into the sorted top list if it beats the k-th; returns the new k-th bits. */
@inline function insert(topBits: usize, topIdx: usize, k: i32, b: i32, idx: i32): i32 {
  let j = k - 1;
  while (j > 0 && b > load<i32>(topBits + (<usize>(j - 1) << 2))) {
    store<i32>(topBits + (<usize>j << 2), load<i32>(topBits + (<usize>(j - 1) << 2)));
    store<i32>(topIdx + (<usize>j << 2), load<i32>(topIdx + (<usize>(j - 1) << 2)));
    j--;
  }
  store<i32>(topBits + (<usize>j << 2), b);
  store<i32>(topIdx + (<usize>j << 2), idx);
  return load<i32>(topBits + (<usize>(k - 1) << 2));
}

@inline function bump(hist: usize, b: i32): void {
  const p = hist + (<usize>(<u32>b >> SHIFT1) << 2);
  store<i32>(p, load<i32>(p) + 1);
}

/** The bin holding the r-th smallest of a histogram; `below` gets the count of smaller bins. */
function findBin(hist: usize, r: i32, belowOut: usize): i32 {
  let below = 0;
  let bin = 0;
  while (below + load<i32>(hist + (<usize>bin << 2)) <= r) {
    below += load<i32>(hist + (<usize>bin << 2));
    bin++;
  }
  store<i32>(belowOut, below);
  return bin;
}

export function stats(
  x: usize, tokens: i32, dims: i32, k: i32,
  ratio: f32, absThreshold: f32, outlierRatio: f32,
  out: usize, scratch: usize,
): f32 {
  const n = tokens * dims;
  const hist = scratch;
  const hist2 = hist + (<usize>BINS << 2);
  const members = hist2 + (<usize>BINS << 2);
  const candidates = members + (<usize>n << 2);
  const topBits = out;
  const topIdx = topBits + (<usize>k << 2);
  const norms = topIdx + (<usize>k << 2);
  const dimMassive = norms + (<usize>tokens << 2);
  const dimOutlier = dimMassive + (<usize>dims << 2);
  memory.fill(hist, 0, <usize>BINS << 2);
  for (let j = 0; j < k; j++) store<i32>(topBits + (<usize>j << 2), -1);
  let floor: i32 = -1;
  const mask = i32x4.splat(ABS);
  const vecDims = dims & ~3;
  // Pass 1.
  for (let t = 0; t < tokens; t++) {
    const row = x + (<usize>(t * dims) << 2);
    let sq = f32x4.splat(0);
    let d = 0;
    for (; d < vecDims; d += 4) {
      const v = v128.load(row + (<usize>d << 2));
      sq = f32x4.add(sq, f32x4.mul(v, v));
      const b = v128.and(v, mask);
      const b0 = i32x4.extract_lane(b, 0);
      const b1 = i32x4.extract_lane(b, 1);
      const b2 = i32x4.extract_lane(b, 2);
      const b3 = i32x4.extract_lane(b, 3);
      bump(hist, b0);
      bump(hist, b1);
      bump(hist, b2);
      bump(hist, b3);
      if (v128.any_true(i32x4.gt_s(b, i32x4.splat(floor)))) {
        const base = t * dims + d;
        if (b0 > floor) floor = insert(topBits, topIdx, k, b0, base);
        if (b1 > floor) floor = insert(topBits, topIdx, k, b1, base + 1);
        if (b2 > floor) floor = insert(topBits, topIdx, k, b2, base + 2);
        if (b3 > floor) floor = insert(topBits, topIdx, k, b3, base + 3);
      }
    }
    let sum: f32 = f32x4.extract_lane(sq, 0) + f32x4.extract_lane(sq, 1) + f32x4.extract_lane(sq, 2) + f32x4.extract_lane(sq, 3);
    for (; d < dims; d++) {
      const v = load<f32>(row + (<usize>d << 2));
      sum += v * v;
      const b = bitsOf(v) & ABS;
      bump(hist, b);
      if (b > floor) floor = insert(topBits, topIdx, k, b, t * dims + d);
    }
    store<f32>(norms + (<usize>t << 2), sqrt<f32>(sum));
  }
  // The lower median is the r-th smallest |a|, r = floor((n - 1) / 2).
  const r = (n - 1) >> 1;
  const bin = findBin(hist, r, hist2);
  const below = load<i32>(hist2);
  // Thresholds can only be higher than at the bin's lower edge: cells above these bounds are the candidates.
  const low = valueOf(bin << SHIFT1);
  let candidateBits = min<i32>(massiveBits(low, ratio, absThreshold), bitsOf(low * outlierRatio));
  // A threshold inside or below the median's bin (ratios near 1): every cell is a candidate.
  if (candidateBits < ((bin + 1) << SHIFT1)) candidateBits = -1;
  // Pass 2.
  let m = 0;
  let c = 0;
  const binV = i32x4.splat(bin);
  const candV = i32x4.splat(candidateBits);
  let i = 0;
  const vecN = n & ~3;
  for (; i < vecN; i += 4) {
    const b = v128.and(v128.load(x + (<usize>i << 2)), mask);
    const hit = v128.or(i32x4.eq(i32x4.shr_u(b, SHIFT1), binV), i32x4.gt_s(b, candV));
    if (!v128.any_true(hit)) continue;
    for (let lane = 0; lane < 4; lane++) {
      const bl = load<i32>(x + (<usize>(i + lane) << 2)) & ABS;
      if ((<u32>bl >> SHIFT1) == <u32>bin) store<i32>(members + (<usize>(m++) << 2), bl);
      if (bl > candidateBits) store<i32>(candidates + (<usize>(c++) << 2), i + lane);
    }
  }
  for (; i < n; i++) {
    const bl = load<i32>(x + (<usize>i << 2)) & ABS;
    if ((<u32>bl >> SHIFT1) == <u32>bin) store<i32>(members + (<usize>(m++) << 2), bl);
    if (bl > candidateBits) store<i32>(candidates + (<usize>(c++) << 2), i);
  }
  // Radix selection among the members: bits 7..18, then the last 7 bits by a linear count.
  memory.fill(hist2, 0, <usize>BINS << 2);
  for (let j = 0; j < m; j++) {
    const p = hist2 + (<usize>((<u32>load<i32>(members + (<usize>j << 2)) >> SHIFT2) & 4095) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  const r2 = r - below;
  let below2 = 0;
  let bin2 = 0;
  while (below2 + load<i32>(hist2 + (<usize>bin2 << 2)) <= r2) {
    below2 += load<i32>(hist2 + (<usize>bin2 << 2));
    bin2++;
  }
  // Last 7 bits: a 128-bin count among the members of bin2 pins the exact bit pattern.
  const r3 = r2 - below2;
  memory.fill(hist, 0, 128 << 2);
  for (let j = 0; j < m; j++) {
    const b = load<i32>(members + (<usize>j << 2));
    if (((<u32>b >> SHIFT2) & 4095) != <u32>bin2) continue;
    const p = hist + (<usize>(b & 127) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  let below3 = 0;
  let bin3 = 0;
  while (below3 + load<i32>(hist + (<usize>bin3 << 2)) <= r3) {
    below3 += load<i32>(hist + (<usize>bin3 << 2));
    bin3++;
  }
  const median = (bin << SHIFT1) | (bin2 << SHIFT2) | bin3;
  const med = valueOf(median);
  const massive = massiveBits(med, ratio, absThreshold);
  const outlier = bitsOf(med * outlierRatio);
  memory.fill(dimMassive, 0, <usize>dims << 3);
  for (let j = 0; j < c; j++) {
    const flat = load<i32>(candidates + (<usize>j << 2));
    const b = load<i32>(x + (<usize>flat << 2)) & ABS;
    const d = flat % dims;
    if (b > massive) store<i32>(dimMassive + (<usize>d << 2), load<i32>(dimMassive + (<usize>d << 2)) + 1);
    if (b > outlier) store<i32>(dimOutlier + (<usize>d << 2), load<i32>(dimOutlier + (<usize>d << 2)) + 1);
  }
  return med;
}
