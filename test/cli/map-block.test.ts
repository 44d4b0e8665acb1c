/** `map`: a norm map is of a layer (--layer), an attention map of a block (--block; --layer still read as the block). */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';


describe('map --block', () => {
  const work = tempDir('map-block');
  const images = join(work, 'images');
  mkdirSync(images);
  copyFileSync(join(IMAGES, 'chelsea.png'), join(images, 'chelsea.png'));
  const scanDir = join(work, 'scan');

  it('draws the attention map of a block; --layer with --kind attention draws the same one', () => {
    const s = massivit('scan', '--model', fixtureModel('synthetic-dinov2'), '--images', images, '--out', scanDir, '--attention', '--no-report', '--threads', '1');
    expect(s.code, s.stderr).toBe(0);
    const byBlock = massivit('map', scanDir, '--image', 'chelsea.png', '--kind', 'attention', '--block', '2', '-o', join(work, 'block.png'));
    expect(byBlock.code, byBlock.stderr).toBe(0);
    const byLayer = massivit('map', scanDir, '--image', 'chelsea.png', '--kind', 'attention', '--layer', '2', '-o', join(work, 'layer.png'));
    expect(byLayer.code, byLayer.stderr).toBe(0);
    expect(readFileSync(join(work, 'block.png')).equals(readFileSync(join(work, 'layer.png')))).toBe(true);
  });

  it('refuses --block on a norm map and a map without its index (exit 2, one line)', () => {
    const norm = massivit('map', scanDir, '--image', 'chelsea.png', '--block', '2', '-o', join(work, 'x.png'));
    expect(norm.code).toBe(2);
    expect(norm.stderr).toMatch(/^massivit: --block goes with --kind attention/m);
    const none = massivit('map', scanDir, '--image', 'chelsea.png', '--kind', 'attention', '-o', join(work, 'y.png'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^massivit: an attention map needs --block <b>/m);
  });
});
