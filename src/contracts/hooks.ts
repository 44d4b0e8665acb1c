/**
 * The hook vocabulary, shared by the tap, the store, the reports and the CLI (TransformerLens names).
 * Layer numbering: layer 0 = the stream entering block 1 (`blocks.0.hook_resid_pre`);
 * layer L = output of block L (`blocks.{L-1}.hook_resid_post`), as Hugging Face `hidden_states[L]`.
 */
export type ResidPreHook = `blocks.${number}.hook_resid_pre`;
export type ResidMidHook = `blocks.${number}.hook_resid_mid`;
export type ResidPostHook = `blocks.${number}.hook_resid_post`;
export type PatternHook = `blocks.${number}.attn.hook_pattern`;
/** The MLP's hidden activation after the nonlinearity: the data input of its down-projection ([batch, tokens, mlp width]). */
export type MlpPostHook = `blocks.${number}.mlp.hook_post`;
export type HookName = ResidPreHook | ResidMidHook | ResidPostHook | PatternHook | MlpPostHook;

export const residPre = (block: number): ResidPreHook => `blocks.${block}.hook_resid_pre`;
export const residMid = (block: number): ResidMidHook => `blocks.${block}.hook_resid_mid`;
export const residPost = (block: number): ResidPostHook => `blocks.${block}.hook_resid_post`;
export const attnPattern = (block: number): PatternHook => `blocks.${block}.attn.hook_pattern`;
export const mlpPost = (block: number): MlpPostHook => `blocks.${block}.mlp.hook_post`;

/** The hook that holds hidden_states[layer]. */
export function layerHook(layer: number): ResidPreHook | ResidPostHook {
  if (!Number.isInteger(layer) || layer < 0) throw new RangeError(`layer must be an integer >= 0, got ${layer}`);
  return layer === 0 ? residPre(0) : residPost(layer - 1);
}

const HOOK_RE = /^blocks\.(\d+)\.(hook_resid_pre|hook_resid_mid|hook_resid_post|attn\.hook_pattern|mlp\.hook_post)$/;

/** A residual-stream hook ([batch, tokens, hidden size]), as against an attention pattern or an MLP activation. */
export function isResidual(name: string): name is ResidPreHook | ResidMidHook | ResidPostHook {
  return /^blocks\.\d+\.hook_resid_(pre|mid|post)$/.test(name);
}

/** The hidden_states index a residual hook holds, or undefined for a non-residual hook. */
export function hookLayer(name: string): number | undefined {
  const m = HOOK_RE.exec(name);
  if (!m) return undefined;
  const block = Number(m[1]);
  if (m[2] === 'hook_resid_post') return block + 1;
  if (m[2] === 'hook_resid_pre') return block;
  return undefined;
}

export function isHookName(name: string): name is HookName {
  return HOOK_RE.test(name);
}
