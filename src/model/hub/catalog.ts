/**
 * A small catalogue of ONNX ViT repos on the Hugging Face hub that massivit's loader understands, so users
 * can type `massivit models pull dinov2-small-reg`. The repos and layouts come from their hub pages and HF
 * configs; none of them could be downloaded in this project's offline CI, so they are not verified here.
 */
import type { Family } from '../config.js';

export interface CatalogEntry {
  /** Short name: also the default local folder name. */
  name: string;
  repo: string;
  family: Family;
  /** Token layout at the default resolution, as massivit numbers tokens. */
  layout: string;
  sequenceLength: number;
  resolution: number;
  note: string;
}

export const CATALOG: readonly CatalogEntry[] = [
  {
    name: 'dinov2-small',
    repo: 'Xenova/dinov2-small',
    family: 'dinov2',
    layout: '[CLS, 256 patches (16x16)]',
    sequenceLength: 257,
    resolution: 224,
    note: 'ViT-S/14, 12 blocks, hidden 384; massive activations reported in the paper',
  },
  {
    name: 'dinov2-base',
    repo: 'Xenova/dinov2-base',
    family: 'dinov2',
    layout: '[CLS, 256 patches (16x16)]',
    sequenceLength: 257,
    resolution: 224,
    note: 'ViT-B/14, 12 blocks, hidden 768',
  },
  {
    name: 'dinov2-small-reg',
    repo: 'onnx-community/dinov2-with-registers-small',
    family: 'dinov2_with_registers',
    layout: '[CLS, reg x4, 256 patches (16x16)]',
    sequenceLength: 261,
    resolution: 224,
    note: 'ViT-S/14 with 4 registers (Darcet et al. 2024)',
  },
  {
    name: 'dinov2-base-reg',
    repo: 'onnx-community/dinov2-with-registers-base',
    family: 'dinov2_with_registers',
    layout: '[CLS, reg x4, 256 patches (16x16)]',
    sequenceLength: 261,
    resolution: 224,
    note: 'ViT-B/14 with 4 registers',
  },
  {
    name: 'clip-vit-base-patch32',
    repo: 'Xenova/clip-vit-base-patch32',
    family: 'clip_vision_model',
    layout: '[CLS, 49 patches (7x7)]',
    sequenceLength: 50,
    resolution: 224,
    note: 'vision tower only (onnx/vision_model.onnx)',
  },
  {
    name: 'clip-vit-base-patch16',
    repo: 'Xenova/clip-vit-base-patch16',
    family: 'clip_vision_model',
    layout: '[CLS, 196 patches (14x14)]',
    sequenceLength: 197,
    resolution: 224,
    note: 'vision tower only (onnx/vision_model.onnx)',
  },
  {
    name: 'vit-base-patch16-224',
    repo: 'Xenova/vit-base-patch16-224',
    family: 'vit',
    layout: '[CLS, 196 patches (14x14)]',
    sequenceLength: 197,
    resolution: 224,
    note: 'supervised ViT-B/16 (ImageNet-21k + 1k)',
  },
];

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.name === name);
}

/** The entry for a repo id, so `pull Xenova/dinov2-small` also reports the known layout. */
export function catalogEntryForRepo(repo: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.repo.toLowerCase() === repo.toLowerCase());
}

export function formatCatalog(entries: readonly CatalogEntry[] = CATALOG): string {
  const rows = entries.map((e) => `${e.name.padEnd(24)}${e.repo.padEnd(45)}${e.family.padEnd(23)}${`${e.sequenceLength} tokens @${e.resolution}: ${e.layout}`}`);
  return [
    `${'NAME'.padEnd(24)}${'REPO'.padEnd(45)}${'FAMILY'.padEnd(23)}TOKENS`,
    ...rows,
    '',
    'Pull one with: massivit models pull <name>   (any other ONNX ViT repo: massivit models pull owner/name)',
    'These repos were not downloaded in massivit\'s offline test suite: layouts come from their hub configs.',
  ].join('\n') + '\n';
}
