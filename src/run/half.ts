/**
 * float32 → IEEE half, for graphs whose pixel input is float16 (ONNX Runtime's node binding takes the bits
 * as a Uint16Array). Round to nearest even, as a hardware conversion; overflow gives ±Inf and NaN stays NaN.
 * Outputs need no converse: the tap casts half-precision hooks to float32 in the graph (tap/plan.ts).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  let bits: number;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    shift = 14 - e;
    bits = mant >>> shift;
  } else bits = (e << 10) | (mant >>> 13);
  const rest = mant & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (bits & 1) === 1)) bits += 1; // a carry into the exponent is right, up to Inf
  return sign | bits;
}

export function toHalf(values: Float32Array, into?: Uint16Array): Uint16Array {
  const out = into && into.length >= values.length ? into.subarray(0, values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}
