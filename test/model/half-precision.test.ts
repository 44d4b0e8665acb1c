/**
 * fp16 graphs: hidden states leave the session as float32 whatever the graph computes in, the precision is
 * recorded, and values that overflowed (±Inf) or became NaN reach the analysis as such.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { toHalfBits } from '../../src/run/half.js';
import { openRunner } from '../../src/run/runner.js';
import { scan } from '../../src/pipelines/scan.js';
import { decodeModel } from '../../src/model/onnx.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { buildHalfModel } from './half-model.js';

const SOURCE = fixtureModel('tiny-vit-op14');
const CPU = { device: 'cpu', threads: 1 } as const;
const LAYERS = Array.from({ length: 5 }, (_, i) => layerHook(i));

function pixels(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, k) => new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i * (k + 1) * 0.01)));
}

describe('half precision', () => {
  const root = tempDir('half');

  it('converts float32 to half bits as IEEE does (rounding, subnormals, overflow, NaN)', () => {
    expect([1, -2, 0.5, 65504, 65520, 70000, -Infinity, 2 ** -24, 2 ** -26, 1 + 2 ** -11].map(toHalfBits)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0001, 0x0000, 0x3c00]);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toHalfBits(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it('exposes an fp16 graph\'s hidden states as float32 that agree with the fp32 twin within fp16 precision', async () => {
    const dir = buildHalfModel(SOURCE, join(root, 'fp16'));
    const spec = loadModel(dir);
    expect(spec.precision).toBe('fp16');
    expect(spec.inputType).toBe('float16');
    expect(spec.warnings.join(' ')).toMatch(/fp16/);
    const [half, full] = [await openRunner(spec, { expose: LAYERS }, CPU), await openRunner(loadModel(SOURCE), { expose: LAYERS }, CPU)];
    const [a, b] = [await half.run(pixels(2)), await full.run(pixels(2))];
    for (const hook of LAYERS) {
      expect(a[hook].type).toBe('float32');
      expect(a[hook].dims).toEqual(b[hook].dims);
      const x = a[hook].data as Float32Array;
      const y = b[hook].data as Float32Array;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < y.length; i++) [scale, diff] = [Math.max(scale, Math.abs(y[i])), Math.max(diff, Math.abs(x[i] - y[i]))];
      // Stated tolerance: fp16 keeps 11 significant bits; over 4 blocks errors stay within 2% of the layer's largest value.
      expect(diff).toBeLessThan(0.02 * scale);
      expect(diff).toBeGreaterThan(0); // it really computed in fp16
    }
    await Promise.all([half.close(), full.close()]);
  });

  it('keeps values that overflowed to Inf, and the NaN they cause downstream, in the float32 hidden states', async () => {
    const model = decodeModel(readFileSync(join(SOURCE, 'model.onnx')));
    const cls = (model.graph!.initializer ?? []).find((t) => /cls_token/.test(t.name ?? ''))!.name!;
    const dir = buildHalfModel(SOURCE, join(root, 'overflow'), (name, values) => {
      if (name === cls) [values[3], values[4]] = [70000, -70000]; // beyond fp16's 65504
    });
    const runner = await openRunner(loadModel(dir), { expose: LAYERS }, CPU);
    const out = await runner.run(pixels(1));
    const dims = Number(out[LAYERS[0]].dims[2]);
    const first = out[LAYERS[0]].data as Float32Array;
    expect([first[3], first[4]]).toEqual([Infinity, -Infinity]); // CLS token, layer 0
    const last = out[LAYERS[4]].data as Float32Array;
    expect(Array.from(last.subarray(0, dims)).some(Number.isNaN)).toBe(true); // LayerNorm of ±Inf
    expect(Array.from(last.subarray(dims)).every(Number.isFinite)).toBe(false);
    await runner.close();
  });

  it('scans an fp16 model, records its precision and agrees with the fp32 scan on where the large activations are', async () => {
    const dir = buildHalfModel(SOURCE, join(root, 'fp16-scan'));
    const half = await scan({ model: dir, images: IMAGES, out: join(root, 'out16'), limit: 4, ...CPU, attention: true });
    const full = await scan({ model: SOURCE, images: IMAGES, out: join(root, 'out32'), limit: 4, ...CPU, attention: true });
    expect(half.summary.model.precision).toBe('fp16');
    expect(half.summary.images.scanned).toBe(4);
    expect(half.summary.layers.length).toBe(full.summary.layers.length);
    half.summary.layers.forEach((l, i) => {
      const f = full.summary.layers[i];
      for (const k of ['top1', 'top2', 'top3', 'median'] as const) expect(Math.abs(l[k] - f[k])).toBeLessThanOrEqual(0.02 * f.top1 + 1e-3); // same 2% tolerance
    });
    const where = (s: typeof half.summary) => s.massive.map((g) => [g.layer, g.dim, g.token]);
    expect(where(half.summary)).toEqual(where(full.summary));
    expect(where(full.summary).length).toBeGreaterThan(0); // the fixture has a planted massive activation
    // The in-graph attention statistics read the fp16 patterns through the same float32 cast.
    const shares = (s: typeof half.summary) => s.attention!.blocks.flatMap((b) => b.heads.map((h) => h.sinkShare ?? 0));
    expect(shares(half.summary).length).toBeGreaterThan(0);
    shares(half.summary).forEach((v, i) => expect(Math.abs(v - shares(full.summary)[i])).toBeLessThan(0.01));
  });
});
