/** The neurons file's one reader, and the CLI's answers to bad input: one line, exit 2, nothing written. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCloseness } from '../../src/outputs/register-closeness.js';
import { readNeuronsFile } from '../../src/outputs/register-neurons.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

describe('massivit registers', () => {
  const dir = tempDir('ttr-cli');
  const neurons = join(dir, 'neurons.json');

  it('find writes a neurons file the reader accepts and an HTML report; add writes a one-register model folder', () => {
    const r = massivit('registers', 'find', '-m', fixtureModel('synthetic-dinov2'), '-i', IMAGES, '-o', neurons, '--limit', '3', '--threads', '1');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 neurons/);
    expect(existsSync(join(dir, 'neurons.html'))).toBe(true);
    const { file, sha256 } = readNeuronsFile(neurons);
    expect(file.neurons).toHaveLength(2);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const model = join(dir, 'model');
    const a = massivit('registers', 'add', '-m', fixtureModel('synthetic-dinov2'), '--neurons', neurons, '-o', model, '-i', IMAGES, '--limit', '3', '--threads', '1');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/register token 1/);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    expect(config.num_register_tokens).toBe(1);
    expect(config.massivit_test_time_register).toMatchObject({ neuronsFile: { path: neurons, sha256 }, register: 1 });
    expect(existsSync(join(model, 'preprocessor_config.json'))).toBe(true);
    expect(readCloseness(model)).toMatchObject({ images: 3, kind: 'features', output: 'pooler_output', top1Agreement: null });
    const inspect = massivit('models', 'inspect', model);
    expect(inspect.stdout).toMatch(/1 registers @1/);
  });

  it('refuses a broken or foreign neurons file, and one found on another model, with exit 2 and one line', () => {
    const cases: [string, RegExp][] = [
      ['{not json', /not JSON/],
      ['{"kind":"something-else"}', /expected an object with kind 'massivit-register-neurons'/],
      [JSON.stringify({ ...JSON.parse(readFileSync(neurons, 'utf8')), neurons: [{ block: 99, index: 0, sign: 1 }] }), /block 99 is past the model's 6 blocks/],
      [JSON.stringify({ ...JSON.parse(readFileSync(neurons, 'utf8')), neurons: [{ block: 0, index: 1, sign: 0 }] }), /sign 1 or -1/],
    ];
    for (const [text, message] of cases) {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, text);
      expect(() => readNeuronsFile(bad)).toThrow(message);
      const out = join(dir, 'never');
      const r = massivit('registers', 'add', '-m', fixtureModel('synthetic-dinov2'), '--neurons', bad, '-o', out);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
    const other = massivit('registers', 'add', '-m', fixtureModel('synthetic-dinov2-reg'), '--neurons', neurons, '-o', join(dir, 'never2'));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/was found on another model/);
    expect(existsSync(join(dir, 'never2'))).toBe(false);
    const self = massivit('registers', 'add', '-m', fixtureModel('synthetic-dinov2'), '--neurons', neurons, '-o', fixtureModel('synthetic-dinov2'));
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/source model's own folder|--out/);
    const auto = massivit('registers', 'add', '-m', fixtureModel('synthetic-dinov2'), '--neurons', 'auto', '-o', join(dir, 'never3'));
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/--images/);
  });
});
