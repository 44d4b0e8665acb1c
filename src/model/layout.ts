/** Token layout: which sequence positions are CLS, registers and patches. */
import { badModel } from '../errors.js';
import type { ArchConfig } from './config.js';

export type TokenRole = 'cls' | 'register' | 'patch';

export interface TokenLayout {
  cls: number;
  registers: number[];
  patchStart: number;
  /** [rows, cols] of the patch grid at the image size the model is run at. */
  patchGrid: [number, number];
  sequenceLength: number;
}

/** DINOv2-reg: [CLS, reg1..regR, patches]; ViT, DINOv2, CLIP: [CLS, patches]. */
export function tokenLayout(arch: ArchConfig, inputHeight: number, inputWidth: number): TokenLayout {
  const rows = Math.floor(inputHeight / arch.patchSize);
  const cols = Math.floor(inputWidth / arch.patchSize);
  const registers = Array.from({ length: arch.numRegisters }, (_, i) => 1 + i);
  const patchStart = 1 + arch.numRegisters;
  return { cls: 0, registers, patchStart, patchGrid: [rows, cols], sequenceLength: patchStart + rows * cols };
}

export function tokenRole(layout: TokenLayout, token: number): TokenRole {
  if (token === layout.cls) return 'cls';
  return token < layout.patchStart ? 'register' : 'patch';
}

/** [row, col] of a patch token, or undefined for CLS/registers. */
export function patchPosition(layout: TokenLayout, token: number): [number, number] | undefined {
  if (token < layout.patchStart) return undefined;
  const i = token - layout.patchStart;
  return [Math.floor(i / layout.patchGrid[1]), i % layout.patchGrid[1]];
}

/** Refuses when the graph's sequence length or width disagrees with what the config implies. */
export function checkLayout(layout: TokenLayout, arch: ArchConfig, observedTokens: number, observedDims: number): void {
  if (observedDims !== arch.hiddenSize) {
    throw badModel(`config.json says hidden_size ${arch.hiddenSize} but the graph's residual stream has ${observedDims} features`);
  }
  if (observedTokens !== layout.sequenceLength) {
    const [r, c] = layout.patchGrid;
    throw badModel(
      `config.json implies ${layout.sequenceLength} tokens (1 CLS + ${layout.registers.length} registers + ${r}×${c} patches of ` +
        `${arch.patchSize}px) but the graph produced ${observedTokens}: check num_register_tokens, patch_size and image size`,
    );
  }
}
