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
export function checkLayout(layout: TokenLayout, arch: ArchConfig, observedTokens: number, observedDims: number, input?: [number, number]): void {
  if (observedDims !== arch.hiddenSize) {
    throw badModel(`config.json says hidden_size ${arch.hiddenSize} but the graph's residual stream has ${observedDims} features`);
  }
  if (observedTokens !== layout.sequenceLength) {
    const [r, c] = layout.patchGrid;
    throw badModel(
      `config.json implies ${layout.sequenceLength} tokens (1 CLS + ${layout.registers.length} registers + ${r}×${c} patches of ` +
        `${arch.patchSize}px) but the graph produced ${observedTokens}: ${explainTokenMismatch(layout, arch, observedTokens, input)}`,
    );
  }
}

/**
 * Names the config field that disagrees with the graph: the patch grid is fixed by the input size and
 * patch_size, so if the extra tokens are not a whole grid it is the register count, and otherwise the
 * patch size that gives the observed grid.
 */
function explainTokenMismatch(layout: TokenLayout, arch: ArchConfig, observed: number, input?: [number, number]): string {
  const [r, c] = layout.patchGrid;
  const patches = r * c;
  const size = input ?? [r * arch.patchSize, c * arch.patchSize];
  const registers = observed - 1 - patches;
  const gridHolds = (p: number) => Math.floor(size[0] / p) * Math.floor(size[1] / p);
  const patchSize = Array.from({ length: 64 }, (_, i) => i + 1).find((p) => 1 + layout.registers.length + gridHolds(p) === observed);
  if (patchSize !== undefined && patchSize !== arch.patchSize && (registers < 0 || registers !== layout.registers.length)) {
    const g = [Math.floor(size[0] / patchSize), Math.floor(size[1] / patchSize)];
    return `the graph's ${g[0]}×${g[1]} patch grid means patch_size ${patchSize}, but config.json says patch_size ${arch.patchSize}`;
  }
  if (registers >= 0) return `the graph carries ${registers} register tokens but config.json says num_register_tokens ${layout.registers.length}`;
  return 'check num_register_tokens, patch_size and image size';
}
