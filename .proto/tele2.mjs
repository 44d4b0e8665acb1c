import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
process.env.ORT_DISABLE_TELEMETRY = '1'; // after import, before the first session
const s = await ort.InferenceSession.create(readFileSync('test/fixtures/models/tiny-vit-op14/model.onnx'));
await s.release();
console.log('done');
