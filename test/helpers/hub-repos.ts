/** Hub-shaped repos built from the project's tiny fixture models, as transformers.js publishes real ones. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureModel } from './env.js';
import type { FakeRepo, HubFile } from './hub-server.js';

const read = (model: string, rel: string): Buffer => readFileSync(join(fixtureModel(model), rel));
const commit = (id: string): string => createHash('sha1').update(id).digest('hex');
/** Bytes that stand in for files the tests never load (other towers, quantized variants). */
const filler = (label: string, size = 4096): Buffer => Buffer.alloc(size, label);

const common = (model: string): HubFile[] => [
  { path: '.gitattributes', bytes: Buffer.from('*.onnx filter=lfs diff=lfs merge=lfs -text\n') },
  { path: 'README.md', bytes: Buffer.from(`# ${model}\nA massivit test fixture.\n`) },
  { path: 'config.json', bytes: read(model, 'config.json') },
  { path: 'preprocessor_config.json', bytes: read(model, 'preprocessor_config.json') },
];

function dinov2Reg(id: string): FakeRepo {
  return {
    id,
    sha: commit(id),
    files: [
      ...common('tiny-dinov2-reg-op14'),
      { path: 'quantize_config.json', bytes: Buffer.from('{"per_channel": true}') },
      { path: 'onnx/model.onnx', bytes: read('tiny-dinov2-reg-op14', 'model.onnx') },
      { path: 'onnx/model_fp16.onnx', bytes: filler('fp16') },
      { path: 'onnx/model_quantized.onnx', bytes: filler('q8') },
    ],
  };
}

export function fixtureRepos(): FakeRepo[] {
  const vit = read('tiny-vit-op14', 'model.onnx');
  return [
    dinov2Reg('test-org/tiny-dinov2-reg'),
    // The catalogue's dinov2-small-reg points here; the fixture stands in for the real 88 MB model.
    dinov2Reg('onnx-community/dinov2-with-registers-small'),
    {
      id: 'test-org/tiny-clip',
      sha: commit('test-org/tiny-clip'),
      files: [
        ...common('tiny-clip-op17'),
        { path: 'onnx/model.onnx', bytes: filler('joint') },
        { path: 'onnx/text_model.onnx', bytes: filler('text') },
        { path: 'onnx/vision_model.onnx', bytes: read('tiny-clip-op17', 'onnx/vision_model.onnx') },
        { path: 'onnx/vision_model_quantized.onnx', bytes: filler('vq8') },
      ],
    },
    {
      id: 'test-org/private-vit',
      sha: commit('test-org/private-vit'),
      token: 'hf_test_secret',
      files: [...common('tiny-vit-op14'), { path: 'model.onnx', bytes: vit }],
    },
    {
      id: 'test-org/external-data',
      sha: commit('test-org/external-data'),
      files: [...common('tiny-vit-op14'), { path: 'onnx/model.onnx', bytes: vit }, { path: 'onnx/model.onnx_data', bytes: filler('weights', 10_000) }, { path: 'onnx/model_fp16.onnx_data', bytes: filler('w16') }],
    },
    {
      id: 'test-org/evil',
      sha: commit('test-org/evil'),
      files: [...common('tiny-vit-op14'), { path: 'onnx/model.onnx', bytes: vit }],
      extraSiblings: ['onnx/../../../escape.onnx'],
    },
    {
      id: 'test-org/no-config',
      sha: commit('test-org/no-config'),
      files: [{ path: 'onnx/model.onnx', bytes: vit }],
    },
  ];
}
