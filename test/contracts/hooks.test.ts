// Table-driven spec of the hook vocabulary, in the style of TransformerLens' get_act_name examples.
import { describe, expect, it } from 'vitest';
import { attnPattern, hookLayer, isHookName, layerHook, residMid, residPost, residPre } from '../../src/contracts/hooks.js';

describe('hook names', () => {
  it.each([
    [residPre(0), 'blocks.0.hook_resid_pre'],
    [residMid(3), 'blocks.3.hook_resid_mid'],
    [residPost(11), 'blocks.11.hook_resid_post'],
    [attnPattern(2), 'blocks.2.attn.hook_pattern'],
  ])('%s is spelled %s', (actual, expected) => expect(actual).toBe(expected));

  it.each([
    [0, 'blocks.0.hook_resid_pre'],
    [1, 'blocks.0.hook_resid_post'],
    [12, 'blocks.11.hook_resid_post'],
  ])('hidden_states[%i] is %s', (layer, hook) => {
    expect(layerHook(layer)).toBe(hook);
    expect(hookLayer(hook)).toBe(layer);
  });

  it.each([
    ['blocks.4.hook_resid_pre', 4],
    ['blocks.4.hook_resid_mid', undefined],
    ['blocks.4.attn.hook_pattern', undefined],
    ['blocks.x.hook_resid_post', undefined],
  ])('hookLayer(%s) = %s', (hook, layer) => expect(hookLayer(hook)).toBe(layer));

  it('rejects malformed names and negative layers', () => {
    expect(isHookName('blocks.1.hook_resid_post')).toBe(true);
    expect(isHookName('blocks.1.hook_resid')).toBe(false);
    expect(isHookName('hook_embed')).toBe(false);
    expect(() => layerHook(-1)).toThrow(/layer must be an integer >= 0/);
  });
});
