/**
 * Writes bench/.tmp/check.bin for `torch_reference.py check`: a few photos preprocessed by massivit
 * (sharp), and ONNX Runtime's hidden states for them (every layer exposed whole), so the PyTorch reference
 * can be checked to compute the same model on the same input tensor.
 * Usage: node bench/check-dump.mjs <model dir> <out file> [images...]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { layerHook } from '../dist/contracts/hooks.js';
import { preprocessImage } from '../dist/images/preprocess.js';
import { loadModel } from '../dist/model/load.js';
import { openRunner } from '../dist/run/runner.js';
import { ROOT } from './dataset.mjs';

const [modelDir, out, ...names] = process.argv.slice(2);
const photos = names.length > 0 ? names : ['chelsea.png', 'coffee.png', 'rocket.jpg'];
const spec = loadModel(modelDir);
const layers = Array.from({ length: spec.arch.numLayers + 1 }, (_, i) => i);
const tapped = await openRunner(spec, { expose: layers.map(layerHook) }, { device: 'cpu', threads: 2 });
const pixels = await Promise.all(photos.map(async (p) => (await preprocessImage(readFileSync(join(ROOT, 'images', p)), spec.preprocess)).pixels));
const outputs = await tapped.run(pixels);
const first = outputs[layerHook(0)];
const [, tokens, dims] = first.dims.map(Number);
const { height, width } = spec.preprocess;
const parts = [Float32Array.from([pixels.length, layers.length, tokens, dims, height, width]), ...pixels, ...layers.map((l) => outputs[layerHook(l)].data)];
writeFileSync(out, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
await tapped.close();
