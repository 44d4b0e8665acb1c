/**
 * How close the test-time-register model stays to the original on the same images: top-1 agreement and
 * KL(original ‖ new) of the class distribution for classifiers, cosine of the output embedding for every
 * model (logits, else pooler_output / image_embeds, else the CLS row of last_hidden_state).
 */
import { argmax, cosine, klDivergence } from '../../analyze/effects.js';
import { MassivitError } from '../../contracts/errors.js';
import type { ModelSpec } from '../../model/load.js';
import { openRunner } from '../../run/runner.js';
import type { RunOptions } from '../../run/session.js';
import { forEachBatch, type ImageSet } from './images.js';
import type { Closeness } from '../../outputs/register-closeness.js';

function outputChoice(names: string[]): { kind: 'classifier' | 'features'; name: string; clsOnly: boolean } {
  if (names.includes('logits')) return { kind: 'classifier', name: 'logits', clsOnly: false };
  for (const n of ['pooler_output', 'image_embeds']) if (names.includes(n)) return { kind: 'features', name: n, clsOnly: false };
  if (names.includes('last_hidden_state')) return { kind: 'features', name: 'last_hidden_state', clsOnly: true };
  throw new MassivitError('BAD_MODEL', `No output to compare: expected logits, pooler_output or last_hidden_state, found ${names.join(', ')}`);
}

/** The chosen output of every image, one vector each, in image order. */
export async function outputVectors(spec: ModelSpec, set: ImageSet, run: RunOptions, batch: number): Promise<{ name: string; kind: Closeness['kind']; vectors: Float32Array[] }> {
  const choice = outputChoice(spec.outputNames);
  const runner = await openRunner(spec, { expose: [], keepOutputs: true }, run);
  const vectors: Float32Array[] = [];
  try {
    await forEachBatch(set, spec.preprocess, batch, false, async (pixels) => {
      const t = (await runner.run(pixels, { outputs: [choice.name] }))[choice.name];
      const dims = t.dims.map(Number);
      const per = dims.slice(1).reduce((a, d) => a * d, 1);
      const width = choice.clsOnly ? dims[2] : per;
      const data = t.data as Float32Array;
      for (let i = 0; i < dims[0]; i++) vectors.push(Float32Array.from(data.subarray(i * per, i * per + width)));
    });
  } finally {
    await runner.close();
  }
  return { name: choice.clsOnly ? `${choice.name}[CLS]` : choice.name, kind: choice.kind, vectors };
}

export function closeness(original: Float32Array[], modified: Float32Array[], output: string, kind: Closeness['kind']): Closeness {
  const n = original.length;
  if (modified.length !== n) throw new MassivitError('INTERNAL', 'The image folder changed between the two models’ runs');
  const cos = modified.map((v, i) => cosine(original[i], v));
  const classifier = kind === 'classifier';
  const kls = classifier ? modified.map((v, i) => klDivergence(original[i], v)) : [];
  return {
    images: n,
    output,
    kind,
    top1Agreement: classifier ? modified.filter((v, i) => argmax(v) === argmax(original[i])).length / n : null,
    meanKL: classifier ? kls.reduce((a, v) => a + v, 0) / n : null,
    maxKL: classifier ? Math.max(...kls) : null,
    cosine: { mean: cos.reduce((a, v) => a + v, 0) / n, min: Math.min(...cos) },
    identical: modified.every((v, i) => v.length === original[i].length && v.every((x, j) => Object.is(x, original[i][j]))),
  };
}
