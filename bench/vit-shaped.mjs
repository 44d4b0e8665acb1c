/**
 * Writes a DINOv2-reg-shaped ViT with random weights (real shapes, no training) as a model folder:
 * config.json, preprocessor_config.json, model.onnx (the graph, a few kB) and model.onnx_data (every weight,
 * external, as large exports are). Never committed: bench/big.mjs writes it under bench/.tmp and deletes it.
 * Layout: [CLS, 4 registers, 16×16 patches of 14 px] at 224 px; pre-LN blocks with LayerScale, plain GELU
 * MLP (DINOv2's ViT-g uses a SwiGLU MLP of about the same size; the graph cost is that of its MatMuls).
 * Usage: node bench/vit-shaped.mjs <vit-l|vit-g> <out dir>
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
export const SHAPES = {
  'vit-l': { name: 'vit-l14-reg-shaped', layers: 24, dims: 1024, heads: 16, mlp: 4096 },
  'vit-g': { name: 'vit-g14-reg-shaped', layers: 40, dims: 1536, heads: 24, mlp: 6144 },
};
const PATCH = 14;
const SIZE = 224;
const REGISTERS = 4;

/** Random floats from a 64 MiB pool (xorshift, uniform ±scale), written at shifting offsets: fast for GBs. */
class WeightsFile {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.offset = 0;
    this.pool = new Float32Array(16 * 2 ** 20);
    let x = 2463534242;
    for (let i = 0; i < this.pool.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.pool[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 2;
    }
    this.cursor = 0;
  }
  /** Appends `count` values of magnitude `scale` (or exactly `fill`); returns [offset, length] in bytes. */
  write(count, scale, fill) {
    const start = this.offset;
    const chunk = new Float32Array(Math.min(count, 4 * 2 ** 20));
    for (let left = count; left > 0; left -= chunk.length) {
      const n = Math.min(left, chunk.length);
      if (fill !== undefined) chunk.fill(fill, 0, n);
      else for (let i = 0; i < n; i++) chunk[i] = this.pool[(this.cursor + i) % this.pool.length] * scale;
      this.cursor = (this.cursor + n * 7 + 13) % this.pool.length;
      writeSync(this.fd, new Uint8Array(chunk.buffer, 0, n * 4));
      this.offset += n * 4;
    }
    return [start, count * 4];
  }
  close() { closeSync(this.fd); }
}

export function writeVitShaped(kind, dir) {
  const s = SHAPES[kind];
  if (!s) throw new Error(`unknown shape ${kind} (vit-l or vit-g)`);
  mkdirSync(dir, { recursive: true });
  const data = new WeightsFile(join(dir, 'model.onnx_data'));
  const nodes = [];
  const inits = [];
  let n = 0;
  const weight = (name, dims, scale, fill) => {
    const [offset, length] = data.write(dims.reduce((a, b) => a * b, 1), scale, fill);
    inits.push({ name, dims, dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'model.onnx_data' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }] });
    return name;
  };
  const ints = (values) => {
    const name = `const/${n++}`;
    inits.push({ name, dims: [values.length], dataType: T.INT64, rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer) });
    return name;
  };
  const scalar = (v) => {
    const name = `const/${n++}`;
    inits.push({ name, dims: [], dataType: T.FLOAT, rawData: new Uint8Array(new Float32Array([v]).buffer) });
    return name;
  };
  const op = (opType, input, attrs = {}) => {
    const out = `${opType}/${n++}`;
    const attribute = Object.entries(attrs).map(([k, v]) => (Array.isArray(v) ? { name: k, type: 7, ints: v } : Number.isInteger(v) ? { name: k, type: 2, i: v } : { name: k, type: 1, f: v }));
    nodes.push({ opType, input, output: [out], name: out, attribute });
    return out;
  };
  const D = s.dims;
  const dh = D / s.heads;
  const grid = SIZE / PATCH;
  // Embeddings: patches + position embeddings, then [CLS + its position, registers (no position), patches].
  let x = op('Conv', ['pixel_values', weight('patch.w', [D, 3, PATCH, PATCH], 0.02), weight('patch.b', [D], 0.02)], { kernel_shape: [PATCH, PATCH], strides: [PATCH, PATCH] });
  x = op('Transpose', [op('Reshape', [x, ints([0, D, -1])])], { perm: [0, 2, 1] });
  x = op('Add', [x, weight('pos.patches', [1, grid * grid, D], 0.02)]);
  const batch = op('Slice', [op('Shape', ['pixel_values']), ints([0]), ints([1])]);
  const expand = (t, count) => op('Expand', [t, op('Concat', [batch, ints([count, D])], { axis: 0 })]);
  const cls = op('Add', [weight('cls', [1, 1, D], 0.02), weight('pos.cls', [1, 1, D], 0.02)]);
  x = op('Concat', [expand(cls, 1), expand(weight('registers', [1, REGISTERS, D], 0.02), REGISTERS), x], { axis: 1 });
  const ln = (t, name) => op('LayerNormalization', [t, weight(`${name}.g`, [D], 0, 1), weight(`${name}.b`, [D], 0, 0)], { axis: -1, epsilon: 1e-6 });
  const linear = (t, name, din, dout) => op('Add', [op('MatMul', [t, weight(`${name}.w`, [din, dout], 1 / Math.sqrt(din))]), weight(`${name}.b`, [dout], 0.02)]);
  const heads = (t, perm) => op('Transpose', [op('Reshape', [t, ints([0, 0, s.heads, dh])])], { perm });
  for (let b = 0; b < s.layers; b++) {
    const h = ln(x, `b${b}.ln1`);
    const q = heads(linear(h, `b${b}.q`, D, D), [0, 2, 1, 3]);
    const k = heads(linear(h, `b${b}.k`, D, D), [0, 2, 3, 1]);
    const v = heads(linear(h, `b${b}.v`, D, D), [0, 2, 1, 3]);
    const attn = op('Softmax', [op('Mul', [op('MatMul', [q, k]), scalar(1 / Math.sqrt(dh))])], { axis: -1 });
    const ctx = op('Reshape', [op('Transpose', [op('MatMul', [attn, v])], { perm: [0, 2, 1, 3] }), ints([0, 0, D])]);
    x = op('Add', [x, op('Mul', [linear(ctx, `b${b}.o`, D, D), weight(`b${b}.ls1`, [D], 0, 0.1)])]);
    const u = linear(ln(x, `b${b}.ln2`), `b${b}.fc1`, D, s.mlp);
    const gelu = op('Mul', [op('Mul', [u, scalar(0.5)]), op('Add', [op('Erf', [op('Mul', [u, scalar(Math.SQRT1_2)])]), scalar(1)])]);
    x = op('Add', [x, op('Mul', [linear(gelu, `b${b}.fc2`, s.mlp, D), weight(`b${b}.ls2`, [D], 0, 0.1)])]);
  }
  nodes.at(-1).output = ['block_out'];
  nodes.push({ opType: 'LayerNormalization', input: ['block_out', weight('ln.g', [D], 0, 1), weight('ln.b', [D], 0, 0)], output: ['last_hidden_state'], name: 'final_ln', attribute: [{ name: 'epsilon', type: 1, f: 1e-6 }] });
  data.close();
  const f = (dims) => ({ tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } });
  const model = {
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'massivit bench/vit-shaped.mjs',
    graph: { name: s.name, node: nodes, initializer: inits, input: [{ name: 'pixel_values', type: f(['batch', 3, SIZE, SIZE]) }], output: [{ name: 'last_hidden_state', type: f(['batch', 1 + REGISTERS + grid * grid, D]) }] },
  };
  writeFileSync(join(dir, 'model.onnx'), onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'dinov2_with_registers', hidden_size: D, num_hidden_layers: s.layers, num_attention_heads: s.heads, patch_size: PATCH, image_size: SIZE, num_register_tokens: REGISTERS, massivit_synthetic: true, massivit_note: `random weights in ${kind} shapes (bench/vit-shaped.mjs); not a trained model` }, null, 2));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'BitImageProcessor', do_resize: true, size: { shortest_edge: 256 }, resample: 3, do_center_crop: true, crop_size: { height: SIZE, width: SIZE }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225] }, null, 2));
  return { dir, bytes: data.offset };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, out] = process.argv.slice(2);
  const t = performance.now();
  const { bytes } = writeVitShaped(kind, out);
  console.log(`${out}: ${(bytes / 2 ** 30).toFixed(2)} GiB of weights in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
