/**
 * `registers add`: the test-time register as a plan of edits (tap/edit-register.ts), applied once and
 * written as an ordinary model folder: model.onnx, config.json with one more register token and the
 * provenance, preprocessor_config.json copied. With no neurons the plan is empty and the model bytes are
 * the source's own, so the "identity" reproduces the original outputs exactly (a zero token alone does not:
 * it is attended to, and moves the ViT-Ti's logits by KL ≈ 0.02).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../contracts/atomic.js';
import type { ModelSpec } from '../../model/load.js';
import type { Edit, NeuronsEdit } from '../../tap/edits.js';
import { decodeModel, encodeModel, type ModelProto } from '../../model/onnx.js';
import { tapModel } from '../../tap/plan.js';
import type { RegisterNeuron } from '../../outputs/register-neurons.js';

const PROVENANCE_KEY = 'massivit_test_time_register';

/** The edits that give `spec` one more register at index patchStart, holding the neurons' extremes. */
export function registerEdits(spec: ModelSpec, neurons: readonly RegisterNeuron[]): Edit[] {
  if (neurons.length === 0) return [];
  const at = spec.tokens.patchStart;
  const byBlock = new Map<number, RegisterNeuron[]>();
  for (const n of neurons) byBlock.set(n.block, [...(byBlock.get(n.block) ?? []), n]);
  const moves = [...byBlock].sort(([a], [b]) => a - b).map(([block, ns]): NeuronsEdit => ({ kind: 'neurons', block, neurons: ns.map((n) => n.index), signs: ns.map((n) => n.sign), register: at }));
  return [{ kind: 'add-token', at }, ...moves];
}

/**
 * The nodes and initializers an edit adds are named `massivit/…` by the plan's builder; a later tap of the
 * written model (scan, intervene) starts a fresh builder with the same names, so they are renamed here.
 */
function renameAdded(model: ModelProto): void {
  const rename = (t: string) => (t.startsWith('massivit/') ? `massivit_ttr/${t.slice('massivit/'.length)}` : t);
  const g = model.graph!;
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map(rename);
    n.output = (n.output ?? []).map(rename);
    if (n.name) n.name = rename(n.name);
  }
  for (const t of g.initializer ?? []) t.name = rename(t.name ?? '');
}

/** The rewritten model bytes (the source bytes themselves when there are no edits). */
export function registerModelBytes(spec: ModelSpec, edits: Edit[]): Uint8Array {
  if (edits.length === 0) return spec.bytes;
  const model = decodeModel(spec.bytes);
  tapModel(model, { expose: [], edits, keepOutputs: true });
  renameAdded(model);
  return encodeModel(model);
}

export interface Provenance {
  sourceModel: { name: string; dir: string; sha256: string };
  neuronsFile: { path: string; sha256: string };
  /** Token index of the added register; null when no neuron was given and nothing was added. */
  register: number | null;
  neurons: { block: number; index: number; sign: 1 | -1 }[];
}

/** Writes the model folder; returns the new model's sha256. */
export function writeRegisterModel(spec: ModelSpec, out: string, bytes: Uint8Array, prov: Provenance): string {
  const config = JSON.parse(readFileSync(join(spec.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const added = prov.register === null ? 0 : 1;
  // transformers.js CLIP folders keep the vision numbers in vision_config (model/config.ts reads them there).
  const target = config.model_type === 'clip' && typeof config.vision_config === 'object' && config.vision_config ? (config.vision_config as Record<string, unknown>) : config;
  target.num_register_tokens = spec.arch.numRegisters + added;
  config[PROVENANCE_KEY] = prov;
  writeFileAtomic(join(out, 'model.onnx'), bytes);
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const pp = join(spec.dir, 'preprocessor_config.json');
  if (existsSync(pp)) writeFileAtomic(join(out, 'preprocessor_config.json'), readFileSync(pp));
  return createHash('sha256').update(bytes).digest('hex');
}
