/** Token layout: which sequence positions are CLS, registers and patches. */
import { badModel } from '../contracts/errors.js';
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

/** Refuses when the graph's sequence length or hidden size disagrees with what the config implies. */
export function checkLayout(layout: TokenLayout, arch: ArchConfig, observedTokens: number, observedDims: number, input?: [number, number]): void {
  if (observedDims !== arch.hiddenSize) {
    throw badModel(`config.json says hidden_size ${arch.hiddenSize} but the graph's residual stream has ${observedDims} dims`);
  }
  if (observedTokens !== layout.sequenceLength) {
    const [r, c] = layout.patchGrid;
    throw badModel(
      `config.json implies ${layout.sequenceLength} tokens (1 CLS + ${layout.registers.length} registers + ${r}×${c} patches of ` +
        `${arch.patchSize}px) but the graph produced ${observedTokens}: ${explainTokenMismatch(layout, arch, observedTokens, input)}`,
    );
  }
}

/** Register counts seen in practice (Darcet et al. use 4–16); a larger "count" means a patch-grid mismatch. */
const PLAUSIBLE_REGISTERS = 16;

/**
 * Names the config field that disagrees with the graph. The token count is 1 + registers + grid, and the
 * grid is fixed by the input size and patch_size: a plausible leftover count is a register mismatch;
 * otherwise the patch size whose grid fits the observed count is named (the largest one, as sizes are
 * normally multiples of it). load.ts checks the patch embedding's kernel directly when it can find it.
 */
function explainTokenMismatch(layout: TokenLayout, arch: ArchConfig, observed: number, input?: [number, number]): string {
  const [r, c] = layout.patchGrid;
  const size = input ?? [r * arch.patchSize, c * arch.patchSize];
  const registers = observed - 1 - r * c;
  if (registers >= 0 && registers <= PLAUSIBLE_REGISTERS && (arch.family === 'dinov2_with_registers' || layout.registers.length > 0)) {
    return `the graph carries ${registers} register tokens but config.json says num_register_tokens ${layout.registers.length}`;
  }
  const grid = (p: number) => [Math.floor(size[0] / p), Math.floor(size[1] / p)];
  const patchSize = Array.from({ length: 64 }, (_, i) => 64 - i).find((p) => 1 + layout.registers.length + grid(p)[0] * grid(p)[1] === observed);
  if (patchSize !== undefined && patchSize !== arch.patchSize) {
    const [gr, gc] = grid(patchSize);
    return `the graph's ${gr}×${gc} patch grid means patch_size ${patchSize}, but config.json says patch_size ${arch.patchSize}`;
  }
  return 'check num_register_tokens, patch_size and image size';
}
