/** Reading a Hugging Face model folder's config.json: family and the numbers the token layout needs. */
import { badModel } from '../contracts/errors.js';

export type Family = 'vit' | 'dinov2' | 'dinov2_with_registers' | 'clip_vision_model';
export const FAMILIES: readonly Family[] = ['vit', 'dinov2', 'dinov2_with_registers', 'clip_vision_model'];

export interface ArchConfig {
  family: Family;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  patchSize: number;
  /** Image size the model was trained at (DINOv2 interpolates position embeddings to other sizes). */
  imageSize: number;
  numRegisters: number;
  /** Set by the project's synthetic fixtures: what was planted where. */
  synthetic?: { note: string; planted?: unknown };
}

type Json = Record<string, unknown>;

/** Bounds far beyond any published ViT (ViT-G: 40 layers, 1536 wide, 24 heads); outside them a config is broken. */
const BOUNDS: Record<string, [number, number]> = {
  num_hidden_layers: [1, 1000],
  hidden_size: [1, 1 << 16],
  num_attention_heads: [1, 1024],
  patch_size: [1, 1024],
  image_size: [1, 16384],
  num_register_tokens: [0, 1024],
};

function int(cfg: Json, key: string, where: string): number {
  const v = cfg[key];
  const [lo, hi] = BOUNDS[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw badModel(`config.json: expected an integer from ${lo} to ${hi} for ${where}${key} but found ${JSON.stringify(v) ?? 'nothing'}`);
  }
  return v;
}

const MODEL_TYPES = new Map<string, Family>([
  ['vit', 'vit'],
  ['deit', 'vit'],
  ['dinov2', 'dinov2'],
  ['dinov2_with_registers', 'dinov2_with_registers'],
  ['clip_vision_model', 'clip_vision_model'],
  ['clip', 'clip_vision_model'],
]);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses config.json; for a `clip` folder the vision tower's nested `vision_config` is used. */
export function parseArchConfig(raw: unknown): ArchConfig {
  if (!isObject(raw)) throw badModel(`config.json: expected a JSON object but found ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = typeof raw.model_type === 'string' ? raw.model_type : '';
  const family = MODEL_TYPES.get(modelType); // a Map: 'toString' or '__proto__' are not families
  if (!family) {
    throw badModel(`config.json: model_type '${String(raw.model_type ?? '')}' is not a supported ViT family (expected one of ${[...MODEL_TYPES.keys()].join(', ')})`);
  }
  const nested = modelType === 'clip';
  const cfg = nested ? raw.vision_config : raw;
  if (!isObject(cfg)) throw badModel("config.json: model_type 'clip' without a vision_config object");
  const where = nested ? 'vision_config.' : '';
  const synthetic = raw.massivit_synthetic === true ? { note: String(raw.massivit_note ?? 'synthetic model'), planted: raw.massivit_planted } : undefined;
  const arch: ArchConfig = {
    family,
    numLayers: int(cfg, 'num_hidden_layers', where),
    hiddenSize: int(cfg, 'hidden_size', where),
    numHeads: int(cfg, 'num_attention_heads', where),
    patchSize: int(cfg, 'patch_size', where),
    imageSize: int(cfg, 'image_size', where),
    // Other families have no registers of their own, but a test-time register (massivit registers add) records one.
    numRegisters: family === 'dinov2_with_registers' || cfg.num_register_tokens !== undefined ? int(cfg, 'num_register_tokens', where) : 0,
    synthetic,
  };
  if (arch.hiddenSize % arch.numHeads !== 0) {
    throw badModel(`config.json: ${where}hidden_size ${arch.hiddenSize} is not divisible by ${where}num_attention_heads ${arch.numHeads}`);
  }
  return arch;
}
