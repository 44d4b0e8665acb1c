/**
 * Norm and attention statistics on the synthetic tiny-dinov2-reg-op17 (random weights; register 3 carries a
 * planted massive activation from layer 2, so its L2 norm jumps to ≈ 1366 while every other token stays
 * below 5). Also the scan flags, resume, and the store tables the attention tap fills.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { merge } from '../../src/pipelines/merge.js';
import { scan } from '../../src/pipelines/scan.js';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { CLI, fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';

const MODEL = fixtureModel('tiny-dinov2-reg-op17');
const planted = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')).massivit_planted as { fromLayer: number; token: number };

describe('scan --attention on a register model with a planted massive activation', () => {
  let s: ScanJson;
  let out: string;
  beforeAll(async () => {
    out = tempDir('norms-fixture');
    ({ summary: s } = await scan({ model: MODEL, images: IMAGES, out, attention: true, device: 'cpu', threads: 1, view: false }));
  });

  it('the planted register is the one high-norm token from the planted layer on', () => {
    const n = s.norms!;
    expect(n.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4]);
    for (const l of n.layers) {
      const total = l.histogram.patch.reduce((a, b) => a + b, 0) + l.histogram.special.reduce((a, b) => a + b, 0);
      expect(total).toBe(17 * 30); // every token of every image lands in some bin
      expect(l.fixed.threshold).toBe(150);
      expect(l.fixed.share).toBe(0); // no patch token is near 150
      expect(l.fixed.grid).toBeNull();
      expect(l.fixed.cls).toBe(0);
      expect(l.fixed.registers).toBe(l.layer >= planted.fromLayer ? 0.25 : 0); // 1 of 4 registers, in every image
      expect(l.auto.threshold).toBeCloseTo(l.meanNorm.patches + 3 * l.patchStd, 9);
    }
  });

  it('records the planted register as every image’s sink token, and the attention shares are probabilities', () => {
    const a = s.attention!;
    expect(a.images).toBe(17);
    expect(a.sinkKinds).toEqual({ massive: 17, near: 0, none: 0 });
    expect(a.sinkTokens).toEqual([[planted.token, 17]]);
    expect(a.blocks.map((b) => b.block)).toEqual([0, 1, 2, 3]);
    expect(a.missing).toEqual([]);
    for (const b of a.blocks) {
      expect(b.heads).toHaveLength(2);
      expect(b.baseline).toBeCloseTo(1 / 30, 12);
      for (const h of b.heads) {
        for (const v of [h.sinkShare, h.clsShare, h.registerShare!, h.clsToSinkShare]) expect(v).toBeGreaterThanOrEqual(0);
        expect(h.sinkShare).toBeLessThanOrEqual(h.registerShare! + 1e-9); // the sink is one of the registers
        expect(h.registerShare! + h.clsShare).toBeLessThanOrEqual(1 + 1e-6);
      }
      expect([b.clsMap.length, b.clsMap[0].length]).toEqual(s.model.tokens.patchGrid);
      const mapMass = b.clsMap.flat().reduce((x, y) => x + y, 0);
      expect(mapMass).toBeGreaterThan(0);
      expect(mapMass).toBeLessThan(1); // CLS and registers are dropped, not renormalised
    }
  });

  it('stores compact per-image rows: sinks, one row per block and head, one CLS row per block', () => {
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    try {
      const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
      expect(count('attn_sinks')).toBe(17);
      expect(count('attn')).toBe(17 * 4 * 2);
      expect(count('attn_maps')).toBe(17 * 4);
      const blob = db.prepare('SELECT cls_row FROM attn_maps LIMIT 1').pluck().get() as Buffer;
      expect(blob.byteLength).toBe(30 * 4);
      expect(JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'analysis'").pluck().get() as string)).toEqual({ norms: true, normThreshold: 150, attention: true });
    } finally {
      db.close();
    }
  });

  it('a resumed scan (first 5 images, then all) gives the same norms and attention sections', async () => {
    const dir = tempDir('norms-resume');
    await scan({ model: MODEL, images: IMAGES, out: dir, attention: true, limit: 5, device: 'cpu', threads: 1, view: false });
    const { summary } = await scan({ model: MODEL, images: IMAGES, out: dir, attention: true, device: 'cpu', threads: 1, view: false });
    expect(summary.norms).toEqual(s.norms);
    expect(summary.attention).toEqual(s.attention);
  });

  it('two shards merged give the same norms and attention sections as one run', async () => {
    const dir = tempDir('norms-merge');
    const shards = [0, 1].map((index) => join(dir, `shard${index}`));
    for (const [index, shardOut] of shards.entries()) {
      await scan({ model: MODEL, images: IMAGES, out: shardOut, attention: true, shard: { index, count: 2 }, device: 'cpu', threads: 1, view: false });
    }
    const { summary } = await merge({ shards, out: join(dir, 'merged'), report: false });
    expect(summary.norms).toEqual(s.norms);
    expect(summary.attention).toEqual(s.attention);
  });

  it('refuses to resume an attention scan without attention (different stored rows)', async () => {
    await expect(scan({ model: MODEL, images: IMAGES, out, device: 'cpu', threads: 1, view: false })).rejects.toThrow(/different model or options/);
  });
});

describe('scan flags for norms', () => {
  it('--no-norms leaves the section out; --norm-threshold moves the fixed threshold; attention is off by default', () => {
    const a = tempDir('norms-cli-a');
    const r1 = spawnSync('node', [CLI, 'scan', '-m', MODEL, '-i', IMAGES, '-o', a, '--device', 'cpu', '--limit', '3', '--no-norms', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r1.status, r1.stderr).toBe(0);
    const j1 = JSON.parse(readFileSync(join(a, 'scan.json'), 'utf8')) as ScanJson;
    expect(j1.norms).toBeUndefined();
    expect(j1.attention).toBeUndefined();
    const b = tempDir('norms-cli-b');
    const r2 = spawnSync('node', [CLI, 'scan', '-m', MODEL, '-i', IMAGES, '-o', b, '--device', 'cpu', '--limit', '3', '--norm-threshold', '2000'], { cwd: ROOT, encoding: 'utf8' });
    expect(r2.status, r2.stderr).toBe(0);
    const j2 = JSON.parse(readFileSync(join(b, 'scan.json'), 'utf8')) as ScanJson;
    expect(j2.norms!.layers.every((l) => l.fixed.threshold === 2000 && l.fixed.registers === 0)).toBe(true);
  });

  it('rejects a non-positive --norm-threshold', () => {
    const r = spawnSync('node', [CLI, 'scan', '-m', MODEL, '-i', IMAGES, '-o', tempDir('norms-cli-c'), '--norm-threshold', '0'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/norm-threshold/);
  });
});
