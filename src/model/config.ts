/** Reading a Hugging Face model folder's config.json: family and the numbers the token layout needs. */
import { badModel } from '../errors.js';

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

function num(cfg: Json, key: string, where: string): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badModel(`config.json: expected a number for ${where}${key} but found ${JSON.stringify(v)}`);
  return v;
}

const MODEL_TYPES: Record<string, Family> = {
  vit: 'vit',
  deit: 'vit',
  dinov2: 'dinov2',
  dinov2_with_registers: 'dinov2_with_registers',
  clip_vision_model: 'clip_vision_model',
  clip: 'clip_vision_model',
};

/** Parses config.json; for a `clip` folder the vision tower's nested `vision_config` is used. */
export function parseArchConfig(raw: Json): ArchConfig {
  const modelType = String(raw.model_type ?? '');
  const family = MODEL_TYPES[modelType];
  if (!family) {
    throw badModel(`config.json: model_type '${modelType}' is not a supported ViT family (expected one of ${Object.keys(MODEL_TYPES).join(', ')})`);
  }
  const nested = modelType === 'clip';
  const cfg = nested ? (raw.vision_config as Json | undefined) : raw;
  if (!cfg || typeof cfg !== 'object') throw badModel("config.json: model_type 'clip' without a vision_config object");
  const where = nested ? 'vision_config.' : '';
  const synthetic = raw.massivit_synthetic === true ? { note: String(raw.massivit_note ?? 'synthetic model'), planted: raw.massivit_planted } : undefined;
  return {
    family,
    numLayers: num(cfg, 'num_hidden_layers', where),
    hiddenSize: num(cfg, 'hidden_size', where),
    numHeads: num(cfg, 'num_attention_heads', where),
    patchSize: num(cfg, 'patch_size', where),
    imageSize: num(cfg, 'image_size', where),
    numRegisters: family === 'dinov2_with_registers' ? num(cfg, 'num_register_tokens', where) : 0,
    synthetic,
  };
}
