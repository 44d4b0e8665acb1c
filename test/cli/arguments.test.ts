/**
 * Errors before work: every bad path or number on every command is refused by the built CLI with exit 2 and
 * one `massivit: ...` line naming the flag or path (plus an optional hint), no stack trace, nothing created.
 *
 * Proof that the model is never loaded: the commands get a "tripwire" model — a folder with a real
 * config.json and a model.onnx that is not ONNX. Loading it fails with its own message ("is not a valid ONNX
 * file"); a case whose stderr names the bad flag instead was refused before the model was read.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { checkBatchMemory } from '../../src/pipelines/checks.js';
import { scan } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { runMassivit } from '../helpers/cli.js';

const base = tempDir('arguments');
const tripwire = join(base, 'tripwire-model');
mkdirSync(tripwire);
copyFileSync(join(fixtureModel('tiny-dinov2-reg-op17'), 'config.json'), join(tripwire, 'config.json'));
writeFileSync(join(tripwire, 'model.onnx'), 'this is not an ONNX graph');
const file = join(base, 'a-file');
writeFileSync(file, 'x');
const fifo = join(base, 'a-fifo');
execFileSync('mkfifo', [fifo]);
const emptyDir = join(base, 'empty-dir');
mkdirSync(emptyDir);
const foreign = join(base, 'foreign');
mkdirSync(foreign);
writeFileSync(join(foreign, 'notes.txt'), 'not a scan');

let n = 0;
/** A path that does not exist yet; each case gets its own, so "nothing created" is checked per case. */
const fresh = () => join(base, `out-${n++}`);

function massivit(args: string[], env: NodeJS.ProcessEnv = {}) {
  // The timeout is a hang guard (a FIFO opened for reading would block forever), not a timing target.
  return runMassivit(args, { timeout: 30_000, env });
}

interface Case {
  name: string;
  args: (out: string) => string[];
  /** What the one error line must name. */
  names: RegExp;
  env?: NodeJS.ProcessEnv;
}

const m = tripwire;
const scanArgs = (out: string, ...extra: string[]) => ['scan', '--model', m, '--images', IMAGES, '--out', out, ...extra];
const scanFlag = (flag: string, value: string): Case => ({ name: `scan ${flag} ${value}`, args: (out) => scanArgs(out, flag, value), names: new RegExp(`${flag}.*'${value.replace(/[.+]/g, '\\$&')}'`) });
const intervene = (out: string, ...extra: string[]) => ['intervene', '--model', m, '--images', IMAGES, '--out', out, ...extra];

const CASES: Case[] = [
  // scan: paths
  { name: 'scan --images missing', args: (out) => ['scan', '-m', m, '-i', '/nonexistent/images', '-o', out], names: /--images \/nonexistent\/images: no such folder/ },
  { name: 'scan --images ""', args: (out) => ['scan', '-m', m, '-i', '', '-o', out], names: /--images is empty/ },
  { name: 'scan --images a file', args: (out) => ['scan', '-m', m, '-i', file, '-o', out], names: /--images .*a-file is a file, not a folder/ },
  { name: 'scan --images a FIFO', args: (out) => ['scan', '-m', m, '-i', fifo, '-o', out], names: /--images .*a-fifo is a named pipe/ },
  { name: 'scan --images /dev/null', args: (out) => ['scan', '-m', m, '-i', '/dev/null', '-o', out], names: /--images \/dev\/null is a character device/ },
  { name: 'scan --out a file', args: () => scanArgs(file), names: /--out .*a-file is a file, not a folder/ },
  { name: 'scan --out under a file', args: () => scanArgs(join(file, 'sub')), names: /--out .*a-file\/sub cannot be created: .*a-file is a file/ },
  { name: 'scan --out a foreign folder', args: () => scanArgs(foreign), names: /--out .*foreign is not empty and holds no scan\.sqlite/ },
  { name: 'scan --out ""', args: () => scanArgs(''), names: /--out is empty/ },
  { name: 'scan --model missing', args: (out) => ['scan', '-m', '/nonexistent/model', '-i', IMAGES, '-o', out], names: /--model \/nonexistent\/model: no such model/ },
  { name: 'scan --model ""', args: (out) => ['scan', '-m', '', '-i', IMAGES, '-o', out], names: /--model is empty/ },
  { name: 'scan --model a FIFO', args: (out) => ['scan', '-m', fifo, '-i', IMAGES, '-o', out], names: /--model .*a-fifo is a named pipe/ },
  // demo: its folders, before any model loads
  { name: 'demo --images missing', args: (out) => ['demo', '--images', '/nonexistent/images', '--out', out], names: /--images \/nonexistent\/images: no such folder/ },
  { name: 'demo --out a file', args: () => ['demo', '--out', file], names: /--out .*a-file is a file, not a folder/ },
  // scan: numbers
  scanFlag('--batch', '1e9'),
  scanFlag('--batch', '3000'),
  scanFlag('--batch', '0'),
  scanFlag('--batch', '0x10'),
  scanFlag('--batch', '2.5'),
  scanFlag('--threads', '1e6'),
  scanFlag('--threads', '-1'),
  scanFlag('--top-k', '5000'),
  scanFlag('--limit', '0'),
  scanFlag('--limit', '1e12'),
  scanFlag('--max-pixels', '1e20'),
  scanFlag('--abs-threshold', 'Infinity'),
  scanFlag('--abs-threshold', 'NaN'),
  scanFlag('--abs-threshold', '-5'),
  scanFlag('--ratio-threshold', '1e300'),
  scanFlag('--near-miss-factor', '2'),
  scanFlag('--outlier-ratio', '0'),
  scanFlag('--outlier-share', '1.5'),
  scanFlag('--norm-threshold', '1e20'),
  scanFlag('--registers', '2000'),
  scanFlag('--patch-size', '0'),
  scanFlag('--image-size', '1e6'),
  { name: 'scan --shard 2/2', args: (out) => scanArgs(out, '--shard', '2/2'), names: /--shard.*'2\/2'/ },
  { name: 'scan --shard huge N', args: (out) => scanArgs(out, '--shard', '0/99999999999'), names: /--shard.*'0\/99999999999'/ },
  { name: 'scan --shard not i/N', args: (out) => scanArgs(out, '--shard', 'abc'), names: /--shard.*'abc'/ },
  // bare-.onnx flags with a model folder (config.json decides)
  { name: 'scan --registers with a folder model', args: (out) => scanArgs(out, '--registers', '2'), names: /--registers only applies to a bare \.onnx file/ },
  { name: 'scan --family with a folder model', args: (out) => scanArgs(out, '--family', 'vit'), names: /--family only applies to a bare \.onnx file/ },
  // --image-size applies to folder models too (DINOv2 at another size, issue 16): only --patch-size is refused here
  { name: 'scan --patch-size --image-size with a folder model', args: (out) => scanArgs(out, '--patch-size', '16', '--image-size', '224'), names: /--patch-size only applies to a bare \.onnx file/ },
  { name: 'scan --registers with an .onnx beside config.json', args: (out) => ['scan', '-m', join(m, 'model.onnx'), '-i', IMAGES, '-o', out, '--registers', '2'], names: /--registers only applies to a bare \.onnx file/ },
  // intervene
  { name: 'intervene --images missing', args: (out) => ['intervene', '-m', m, '-i', '/nonexistent/images', '-o', out], names: /--images \/nonexistent\/images: no such folder/ },
  { name: 'intervene --images ""', args: (out) => ['intervene', '-m', m, '-i', '', '-o', out], names: /--images is empty/ },
  { name: 'intervene --out a file', args: () => intervene(file), names: /--out .*a-file is a file/ },
  { name: 'intervene --scan missing', args: (out) => intervene(out, '--scan', '/nonexistent/scan'), names: /--scan \/nonexistent\/scan: no such folder/ },
  { name: 'intervene --model missing', args: (out) => ['intervene', '-m', '/nonexistent/model', '-i', IMAGES, '-o', out], names: /--model \/nonexistent\/model/ },
  { name: 'intervene --at 99999', args: (out) => intervene(out, '--at', '99999'), names: /--at.*'99999'/ },
  { name: 'intervene --at -1', args: (out) => intervene(out, '--at', '-1'), names: /--at.*'-1'/ },
  { name: 'intervene --seed -1', args: (out) => intervene(out, '--seed', '-1'), names: /--seed.*'-1'/ },
  { name: 'intervene --batch 3000', args: (out) => intervene(out, '--batch', '3000'), names: /--batch.*'3000'/ },
  { name: 'intervene --threads 1e6', args: (out) => intervene(out, '--threads', '1e6'), names: /--threads.*'1e6'/ },
  { name: 'intervene --limit 0', args: (out) => intervene(out, '--limit', '0'), names: /--limit.*'0'/ },
  // map
  { name: 'map <scanDir> missing', args: (out) => ['map', '/nonexistent/scan', '--image', 'a.png', '--layer', '1', '-o', join(out, 'm.png')], names: /<scanDir> \/nonexistent\/scan: no such folder/ },
  { name: 'map <scanDir> a file', args: (out) => ['map', file, '--image', 'a.png', '--layer', '1', '-o', join(out, 'm.png')], names: /<scanDir> .*a-file is a file/ },
  { name: 'map --out a folder', args: () => ['map', emptyDir, '--image', 'a.png', '--layer', '1', '-o', emptyDir], names: /--out .*empty-dir is a folder, not a file/ },
  { name: 'map --out under a file', args: () => ['map', emptyDir, '--image', 'a.png', '--layer', '1', '-o', join(file, 'm.png')], names: /--out .*cannot be created/ },
  { name: 'map --layer 1e9', args: (out) => ['map', emptyDir, '--image', 'a.png', '--layer', '1e9', '-o', join(out, 'm.png')], names: /--layer.*'1e9'/ },
  { name: 'map --images a file', args: (out) => ['map', emptyDir, '--image', 'a.png', '--layer', '1', '-o', join(out, 'm.png'), '--images', file], names: /--images .*a-file is a file/ },
  { name: 'map --model missing', args: (out) => ['map', emptyDir, '--image', 'a.png', '--layer', '1', '-o', join(out, 'm.png'), '--model', '/nonexistent/model'], names: /--model \/nonexistent\/model/ },
  // report
  { name: 'report <scanDir> missing', args: () => ['report', '/nonexistent/scan'], names: /<scanDir> \/nonexistent\/scan: no such folder/ },
  { name: 'report <scanDir> /dev/null', args: () => ['report', '/dev/null'], names: /<scanDir> \/dev\/null is a character device/ },
  { name: 'report --html a folder', args: () => ['report', emptyDir, '--html', emptyDir], names: /--html .*empty-dir is a folder/ },
  { name: 'report --figures a file', args: () => ['report', emptyDir, '--figures', file], names: /--figures .*a-file is a file/ },
  { name: 'report --images missing', args: () => ['report', emptyDir, '--images', '/nonexistent/images'], names: /--images \/nonexistent\/images/ },
  { name: 'report --intervene a FIFO', args: () => ['report', emptyDir, '--intervene', fifo], names: /--intervene .*a-fifo is a named pipe/ },
  { name: 'report --intervene missing', args: () => ['report', emptyDir, '--intervene', '/nonexistent/intervene.json'], names: /--intervene \/nonexistent\/intervene\.json: no such file/ },
  { name: 'report --model missing', args: () => ['report', emptyDir, '--model', '/nonexistent/model'], names: /--model \/nonexistent\/model/ },
  { name: 'report --layer -1', args: () => ['report', emptyDir, '--model', m, '--layer', '-1'], names: /--layer.*'-1'/ },
  // compare, merge
  { name: 'compare <scanDir> missing', args: (out) => ['compare', '/nonexistent/scan', '-o', out], names: /<scanDir> \/nonexistent\/scan/ },
  { name: 'compare --out a file', args: () => ['compare', emptyDir, '-o', file], names: /--out .*a-file is a file/ },
  { name: 'merge <shardOut> missing', args: (out) => ['merge', '/nonexistent/shard', '-o', out], names: /<shardOut> \/nonexistent\/shard/ },
  { name: 'merge --out under a file', args: () => ['merge', emptyDir, '-o', join(file, 'merged')], names: /--out .*cannot be created/ },
  // models
  { name: 'models pull --models-dir a file', args: () => ['models', 'pull', 'owner/name', '--models-dir', file], names: /--models-dir .*a-file is a file/ },
  { name: 'models pull --cache-dir a file', args: (out) => ['models', 'pull', 'owner/name', '--models-dir', out, '--cache-dir', file], names: /--cache-dir .*a-file is a file/ },
  { name: 'models inspect missing', args: () => ['models', 'inspect', '/nonexistent/model'], names: /<model> \/nonexistent\/model/ },
  { name: 'models list, MASSIVIT_MODELS_DIR a file', args: () => ['models', 'list'], env: { MASSIVIT_MODELS_DIR: file }, names: /MASSIVIT_MODELS_DIR .*a-file is a file/ },
];

describe('errors before work: exit 2, one line naming the flag or path, nothing created, model never read', () => {
  it('the tripwire model trips when it is loaded (so a case that names its flag was refused before)', () => {
    const r = massivit(scanArgs(fresh()));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid ONNX file/);
  });

  it.each(CASES)('$name', (c) => {
    const out = fresh();
    const before = readdirSync(base).sort();
    const r = massivit(c.args(out), c.env);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^massivit: /);
    expect(lines[0]).toMatch(c.names);
    expect(lines.slice(1).every((l) => l.startsWith('  hint: ')), r.stderr).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toMatch(/\n\s+at |not a valid ONNX/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(before);
  });
});

describe('the flags still work where they apply', () => {
  it('bare-.onnx flags are used with a bare .onnx file (no config.json beside it)', () => {
    const dir = tempDir('bare-onnx');
    copyFileSync(join(fixtureModel('tiny-dinov2-reg-op17'), 'model.onnx'), join(dir, 'model.onnx'));
    const args = ['scan', '-m', join(dir, 'model.onnx'), '-i', IMAGES, '-o', join(dir, 'out'), '--limit', '2', '--no-report', '--device', 'cpu', '--json'];
    const r = massivit([...args, '--family', 'dinov2_with_registers', '--registers', '4', '--patch-size', '8', '--image-size', '40']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model.tokens.registers).toEqual([1, 2, 3, 4]);
  });

  it('numbers at the ends of their ranges, and in exponent notation, are accepted', () => {
    const out = fresh();
    const r = massivit([...scanArgs(out, '--batch', '1024', '--top-k', '4096', '--max-pixels', '1e10', '--near-miss-factor', '1', '--outlier-share', '1', '--threads', '0')]);
    expect(r.stderr).toMatch(/not a valid ONNX file/); // got past every flag check, to the (tripwire) model
  });
});

describe('the library refuses the same values with BAD_OPTION before loading the model', () => {
  const refuse = async (opts: Partial<Parameters<typeof scan>[0]>, names: RegExp) => {
    const out = fresh();
    const err = await scan({ model: tripwire, images: IMAGES, out, ...opts }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MassivitError);
    expect((err as MassivitError).code).toMatch(/^BAD_(OPTION|OUTPUT)$/);
    expect((err as MassivitError).message).toMatch(names);
    expect(existsSync(out)).toBe(false);
  };
  it('scan({ batch: 3000 })', () => refuse({ batch: 3000 }, /--batch/));
  it('scan({ threads: 1e6 })', () => refuse({ threads: 1e6 }, /--threads/));
  it('scan({ maxPixels: 1e20 })', () => refuse({ maxPixels: 1e20 }, /--max-pixels/));
  it('scan({ criteria: { outlierShare: NaN } })', () => refuse({ criteria: { outlierShare: NaN } }, /--outlier-share/));
  it("scan({ images: '' })", () => refuse({ images: '' }, /--images is empty/));
  it('scan({ images: /dev/null })', () => refuse({ images: '/dev/null' }, /--images \/dev\/null is a character device/));
  it('scan({ out: a file })', () => refuse({ out: file }, /--out .*a-file is a file/));
});

describe('--batch against the size of the model', () => {
  it('ViT-Ti (13 × 197 × 192) fits 1024 images a batch; ViT-L/14 (25 × 257 × 1024) is refused above 163, naming --batch', () => {
    expect(() => checkBatchMemory(1024, 13, 197, 192)).not.toThrow();
    expect(() => checkBatchMemory(163, 25, 257, 1024)).not.toThrow();
    expect(() => checkBatchMemory(164, 25, 257, 1024)).toThrow(/^--batch 164 needs 4\.0 GiB .*at most 163 fits/);
    expect(() => checkBatchMemory(1024, 13, 197, 0)).not.toThrow(); // a bare .onnx before its probe: width unknown
  });
});
