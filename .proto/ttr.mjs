// Prototype (not committed): test-time registers on ViT-Ti. Step 1 find register neurons; step 2 add a register.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel, GraphBuilder, DataType } from '/work/h0/dist/tap/onnx.js';
import { loadModel } from '/work/h0/dist/model/load.js';
import { preprocessImage } from '/work/h0/dist/images/preprocess.js';

const MODEL = '/work/shared/models/vit-tiny-augreg-in1k';
const spec = loadModel(MODEL);
const imgsDir = '/work/shared/images';
const files = readdirSync(imgsDir).filter((f) => /\.(png|jpg)$/.test(f));
const pixels = [];
for (const f of files) pixels.push((await preprocessImage(readFileSync(join(imgsDir, f)), spec.preprocess)).pixels);
const B = pixels.length, H = 224, W = 224;
const input = new Float32Array(B * 3 * H * W); pixels.forEach((p, i) => input.set(p, i * 3 * H * W));
const T = 197, D = 192, HID = 768, NB = 12;
const post = (i) => `/vit/layer.${i}/intermediate/Mul_1_output_0`;
const resid = (i) => `/vit/layer.${i}/output/Add_output_0`; // hidden_states[i+1] (block outputs; last is fed to final LN)

async function runModel(bytes, fetch) {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  const out = await s.run({ pixel_values: new ort.Tensor('float32', input, [B, 3, H, W]) }, fetch);
  await s.release();
  return out;
}
function expose(model, names) { const g = model.graph; for (const n of names) g.output.push({ name: n, type: { tensorType: { elemType: DataType.FLOAT } } }); }

// --- step 1: activations
const m1 = decodeModel(readFileSync(join(MODEL, 'model.onnx')));
const layersNeeded = [...Array(NB).keys()];
expose(m1, [...layersNeeded.map(post), ...layersNeeded.map(resid)]);
const o1 = await runModel(encodeModel(m1), ['logits', ...layersNeeded.map(post), ...layersNeeded.map(resid)]);
// norms per layer
function norms(t, T_) { const d = t.data; const dim = t.dims[2]; const out = new Float32Array(B * T_); for (let b = 0; b < B; b++) for (let k = 0; k < T_; k++) { let s = 0; for (let j = 0; j < dim; j++) { const v = d[(b * T_ + k) * dim + j]; s += v * v; } out[b * T_ + k] = Math.sqrt(s); } return out; }
for (const L of [6, 7, 8, 9, 10, 11, 12]) {
  const n = norms(o1[resid(L - 1)], T);
  const pn = []; for (let b = 0; b < B; b++) for (let k = 1; k < T; k++) pn.push(n[b * T + k]);
  pn.sort((a, b) => a - b);
  console.log(`layer ${L}: patch norm median ${pn[pn.length >> 1].toFixed(1)} p99 ${pn[Math.floor(pn.length * 0.99)].toFixed(1)} max ${pn[pn.length - 1].toFixed(1)}`);
}
// detection layer: choose layer with largest max/median ratio; outliers: norm > mean + 3 sd (auto) on that layer
let best = null;
for (let L = 1; L <= NB; L++) {
  const n = norms(o1[resid(L - 1)], T); const pn = []; for (let b = 0; b < B; b++) for (let k = 1; k < T; k++) pn.push(n[b * T + k]);
  const mean = pn.reduce((a, x) => a + x, 0) / pn.length; const sd = Math.sqrt(pn.reduce((a, x) => a + (x - mean) ** 2, 0) / pn.length);
  const thr = mean + 3 * sd; const out = pn.filter((x) => x > thr).length;
  const sorted = [...pn].sort((a, b) => a - b); const ratio = sorted[sorted.length - 1] / sorted[sorted.length >> 1];
  if (!best || ratio > best.ratio) best = { L, thr, out, ratio, n };
}
console.log('detection layer', best.L, 'threshold', best.thr.toFixed(1), 'outlier tokens', best.out, 'of', B * (T - 1));
const isOut = new Uint8Array(B * T); for (let b = 0; b < B; b++) for (let k = 1; k < T; k++) if (best.n[b * T + k] > best.thr) isOut[b * T + k] = 1;
const outPos = {}; for (let b = 0; b < B; b++) for (let k = 1; k < T; k++) if (isOut[b * T + k]) outPos[k] = (outPos[k] ?? 0) + 1; console.log('outlier token positions', outPos);
// neuron scores, blocks before detection layer
const scores = [];
for (let i = 0; i < best.L; i++) {
  const a = o1[post(i)].data;
  for (let h = 0; h < HID; h++) {
    let so = 0, no = 0, se = 0, ne = 0;
    for (let b = 0; b < B; b++) for (let k = 1; k < T; k++) { const v = Math.abs(a[(b * T + k) * HID + h]); if (isOut[b * T + k]) { so += v; no++; } else { se += v; ne++; } }
    scores.push({ block: i, neuron: h, atOutliers: so / no, elsewhere: se / ne, ratio: (so / no) / (se / ne + 1e-6) });
  }
}
scores.sort((x, y) => y.atOutliers - x.atOutliers);
console.log('top by mean |act| at outliers:'); for (const s of scores.slice(0, 15)) console.log(JSON.stringify(s));
const total = scores.reduce((a, s) => a + s.atOutliers, 0);

// --- step 2: add register with top-k neurons; compare
async function withRegister(neurons) {
  const m = decodeModel(readFileSync(join(MODEL, 'model.onnx')));
  const g = m.graph; const b = new GraphBuilder(g);
  const emb = '/vit/embeddings/Add_output_0';
  const consumers = g.node.filter((n) => n.input.includes(emb));
  // x[:, :1], zeros, x[:, 1:]
  const i0 = b.constant([0], [1], 'int64'), i1 = b.constant([1], [1], 'int64'), iBig = b.constant([1 << 30], [1], 'int64');
  const cls = b.one('Slice', [emb, i0, i1, i1]); const rest = b.one('Slice', [emb, i1, iBig, i1]);
  const zero = b.one('Mul', [cls, b.scalar(0)]);
  const xr = b.one('Concat', [cls, zero, rest], { axis: 1 });
  const T2 = T + 1; // [CLS, reg, patches]
  for (const n of consumers) n.input = n.input.map((x) => (x === emb ? xr : x));
  // neuron edits per block
  const byBlock = new Map(); for (const s of neurons) { if (!byBlock.has(s.block)) byBlock.set(s.block, []); byBlock.get(s.block).push(s.neuron); }
  for (const [blk, ns] of byBlock) {
    const x = post(blk);
    const cons = g.node.filter((n) => n.input.includes(x));
    const sel = new Float32Array(HID); for (const h of ns) sel[h] = 1;
    // sign-aware: use sign of mean act at outliers (from step 1)
    const sgn = new Float32Array(HID).fill(1);
    for (const h of ns) { const a = o1[post(blk)].data; let s = 0; for (let bb = 0; bb < B; bb++) for (let k = 1; k < T; k++) if (isOut[bb * T + k]) s += a[(bb * T + k) * HID + h]; sgn[h] = s >= 0 ? 1 : -1; }
    const selC = b.constant(sel, [HID], 'float32'); const sgnC = b.constant(sgn, [HID], 'float32');
    const i2 = b.constant([2], [1], 'int64');
    const patches = b.one('Slice', [x, process.env.FROM_REG ? i1 : i2, iBig, i1]);
    const mx = b.one('Mul', [b.one('ReduceMax', [b.one('Mul', [patches, sgnC])], { axes: [1], keepdims: 1 }), sgnC]); // [B,1,HID]
    const keep = new Float32Array(T2 * HID).fill(1); const regRow = new Float32Array(T2 * HID);
    for (let k = 1; k < T2; k++) for (const h of ns) keep[k * HID + h] = 0; // zero reg + patches for selected
    for (const h of ns) regRow[1 * HID + h] = 1;
    const keepC = b.constant(keep, [1, T2, HID], 'float32'); const regC = b.constant(regRow, [1, T2, HID], 'float32');
    const y = b.one('Add', [b.one('Mul', [x, keepC]), b.one('Mul', [mx, regC])]);
    const added = g.node.splice(g.node.length - 0); // nodes appended at end; need topo order: move after producer
    for (const n of cons) n.input = n.input.map((v) => (v === x ? y : v));
  }
  // topological sort (simple Kahn) since nodes were appended
  const produced = new Set([...g.input.map((i) => i.name), ...g.initializer.map((i) => i.name)]);
  const order = []; let pending = g.node.slice();
  while (pending.length) { const next = []; for (const n of pending) { if (n.input.every((i) => i === '' || produced.has(i))) { order.push(n); n.output.forEach((o) => produced.add(o)); } else next.push(n); } if (next.length === pending.length) throw new Error('cycle'); pending = next; }
  g.node = order;
  g.output.push(...[...Array(NB).keys()].map((i) => ({ name: resid(i), type: { tensorType: { elemType: DataType.FLOAT } } })));
  return runModel(encodeModel(m), ['logits', ...[...Array(NB).keys()].map(resid)]);
}
function softmax(row) { const m = Math.max(...row); const e = row.map((v) => Math.exp(v - m)); const s = e.reduce((a, x) => a + x, 0); return e.map((v) => v / s); }
function compare(oA, oB) {
  const C = 1000; let agree = 0, kl = 0;
  for (let bb = 0; bb < B; bb++) { const a = Array.from(oA.logits.data.subarray(bb * C, (bb + 1) * C)), c = Array.from(oB.logits.data.subarray(bb * C, (bb + 1) * C)); const pa = softmax(a), pc = softmax(c); if (a.indexOf(Math.max(...a)) === c.indexOf(Math.max(...c))) agree++; kl += pa.reduce((s, p, j) => s + (p > 0 ? p * Math.log(p / Math.max(pc[j], 1e-30)) : 0), 0); }
  return { agree: agree / B, meanKL: kl / B };
}
const byRatio = scores.filter((s) => s.atOutliers > 0).sort((x, y) => y.atOutliers - x.atOutliers);
for (const k of [0, 1, 2, 5, 10, 20]) {
  const chosen = byRatio.slice(0, k);
  const o2 = await withRegister(chosen);
  const r = compare(o1, o2);
  // norms at detection layer: register vs max patch
  const n2 = norms(o2[resid(best.L - 1)], T + 1); let reg = 0, maxPatch = 0; for (let bb = 0; bb < B; bb++) { reg += n2[bb * (T + 1) + 1]; for (let t = 2; t < T + 1; t++) maxPatch = Math.max(maxPatch, n2[bb * (T + 1) + t]); }
  // massive cell dim 41 at layer 8+: where
  const h8 = o2[resid(8)].data; let regMax = 0, patchMax = 0; for (let bb = 0; bb < B; bb++) { regMax = Math.max(regMax, Math.abs(h8[(bb * (T + 1) + 1) * D + 41])); for (let t = 2; t < T + 1; t++) patchMax = Math.max(patchMax, Math.abs(h8[(bb * (T + 1) + t) * D + 41])); }
  console.log(`k=${k}: top1 agreement ${r.agree.toFixed(3)} meanKL ${r.meanKL.toFixed(4)} | layer ${best.L} register norm (mean) ${(reg / B).toFixed(1)} max patch norm ${maxPatch.toFixed(1)} | layer 9 dim41 |a| register max ${regMax.toFixed(1)} patch max ${patchMax.toFixed(1)} | neurons ${chosen.map((s) => s.block + ':' + s.neuron).join(' ')}`);
}
