/**
 * How close the test-time-register model stays to the original on the same images: top-1 agreement and
 * KL(original ‖ new) of the class distribution for classifiers, cosine of the output embedding for every
 * model (logits, else pooler_output / image_embeds, else the CLS row of last_hidden_state).
 */
import { outputEffect } from '../../analyze/effects.js';
import { outputChoice, vectors as outputVectorsOf } from '../intervene-run.js';
import { MassivitError } from '../../contracts/errors.js';
import type { ModelSpec } from '../../model/load.js';
import { openRunner } from '../../run/runner.js';
import type { RunOptions } from '../../run/session.js';
import { forEachBatch, type ImageSet } from './images.js';
import type { Closeness } from '../../outputs/register-closeness.js';

/** The chosen output of every image, one vector each, in image order. */
export async function outputVectors(spec: ModelSpec, set: ImageSet, run: RunOptions, batch: number): Promise<{ name: string; kind: Closeness['kind']; vectors: Float32Array[] }> {
  const choice = outputChoice(spec.outputNames);
  const runner = await openRunner(spec, { expose: [], keepOutputs: true }, run);
  const vectors: Float32Array[] = [];
  try {
    await forEachBatch(set, spec.preprocess, batch, false, async (pixels) => {
      vectors.push(...outputVectorsOf((await runner.run(pixels, { outputs: [choice.name] }))[choice.name], choice.clsOnly));
    });
  } finally {
    await runner.close();
  }
  return { name: choice.clsOnly ? `${choice.name}[CLS]` : choice.name, kind: choice.kind, vectors };
}

export function closeness(original: Float32Array[], modified: Float32Array[], output: string, kind: Closeness['kind']): Closeness {
  const n = original.length;
  if (modified.length !== n) throw new MassivitError('INTERNAL', 'The image folder changed between the two models’ runs');
  return {
    images: n,
    output,
    kind,
    ...outputEffect(original, modified, kind === 'classifier'),
    identical: modified.every((v, i) => v.length === original[i].length && v.every((x, j) => Object.is(x, original[i][j]))),
  };
}
