import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const s = await ort.InferenceSession.create(readFileSync('test/fixtures/models/tiny-vit-op14/model.onnx'));
await s.release();
console.log('done');
