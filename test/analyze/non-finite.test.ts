/**
 * NaN and ±Inf in activations: a tiny fixture ViT whose block-2 MLP bias holds NaN, +Inf and −Inf (built at
 * test time) is scanned through the CLI. The scan must finish, scan.json must count the non-finite cells per
 * layer exactly (as the graph makes them) with every statistic finite, and the report must say so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { countNonFinite, finiteCopy, summarizeNonFinite } from '../../src/analyze/non-finite.js';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { tempDir } from '../helpers/env.js';
import { runMassivit } from '../helpers/cli.js';
import { copyFixture, editGraph } from '../helpers/broken-models.js';
import { openBrowser } from '../helpers/browser.js';
import { someImages } from '../helpers/report-scans.js';

/** The block whose MLP output bias is broken: hidden state `BROKEN_BLOCK + 1` is the first to hold NaN / ±Inf. */
const BROKEN_BLOCK = 1;
const [NAN_DIM, POS_DIM, NEG_DIM] = [3, 5, 7];

function brokenModel(dir: string): string {
  copyFixture('tiny-vit-op14', dir);
  return editGraph(dir, (model) => {
    const name = `vit.encoder.layer.${BROKEN_BLOCK}.output.dense.bias`;
    const t = model.graph!.initializer!.find((i) => i.name === name);
    if (!t?.rawData) throw new Error(`fixture has no ${name}`);
    const bias = new Float32Array(Uint8Array.from(t.rawData).buffer);
    [bias[NAN_DIM], bias[POS_DIM], bias[NEG_DIM]] = [NaN, Infinity, -Infinity];
    t.rawData = new Uint8Array(bias.buffer);
  });
}

const cli = (...args: string[]) => runMassivit(args, { timeout: 120_000 });

describe('a model whose hidden states hold NaN and ±Inf', () => {
  let out: string;
  let scan: ScanJson;
  let images: number;

  beforeAll(() => {
    const work = tempDir('non-finite');
    const model = brokenModel(join(work, 'model'));
    const photos = someImages(join(work, 'images'));
    images = 3;
    out = join(work, 'scan');
    const r = cli('scan', '--model', model, '--images', photos, '--out', out, '--attention', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('report not written');
    expect(r.stderr).toContain(`massivit: warning: Non-finite activations (NaN or ±Inf) first at layer ${BROKEN_BLOCK + 1}`);
    scan = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')) as ScanJson;
  }, 180_000);

  it('scan.json counts them per layer, exactly as the graph makes them', () => {
    const { sequenceLength: T, hiddenSize: D, numLayers: L } = scan.model;
    const first = BROKEN_BLOCK + 1;
    for (const l of scan.layers) {
      if (l.layer < first) expect(l.nonFinite, `layer ${l.layer}`).toBeUndefined();
      // The broken bias adds NaN / +Inf / −Inf to one dim of every token; the next LayerNorm spreads NaN everywhere.
      else if (l.layer === first) expect(l.nonFinite).toEqual({ images, nan: images * T, posInf: images * T, negInf: images * T });
      else expect(l.nonFinite, `layer ${l.layer}`).toEqual({ images, nan: images * T * D, posInf: 0, negInf: 0 });
    }
    const later = L - first;
    expect(scan.nonFinite).toEqual({
      firstLayer: first,
      lastLayer: L,
      images,
      cells: { nan: images * T * (1 + later * D), posInf: images * T, negInf: images * T },
    });
  });

  it('every statistic stays a number (no silent null), and the affected images leave the attention summary', () => {
    for (const l of scan.layers) for (const k of ['top1', 'top2', 'top3', 'median'] as const) expect(Number.isFinite(l[k]), `layer ${l.layer} ${k}`).toBe(true);
    for (const l of scan.norms!.layers) expect(Number.isFinite(l.meanNorm.patches) && Number.isFinite(l.patchStd), `norms layer ${l.layer}`).toBe(true);
    expect(scan.images).toEqual({ scanned: images, failed: 0, errors: [] });
    expect(scan.attention).toBeUndefined(); // every image is affected here
  });

  it('the report names the first affected layer and lists the layers, and opens clean in Chromium', async () => {
    const r = cli('report', out, '--no-figures');
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`Non-finite activations (NaN or ±Inf) first at layer ${BROKEN_BLOCK + 1}, through layer ${scan.model.numLayers}, in ${images} of ${images} images`);
    const table = /<table class="sortable" id="non-finite-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(table.match(/<tr>/g)?.length).toBe(1 + scan.model.numLayers - BROKEN_BLOCK); // header + affected layers
    const browser = await openBrowser();
    try {
      const visit = await browser.visit(join(out, 'report.html'));
      expect([...visit.consoleErrors, ...visit.pageErrors]).toEqual([]);
      expect(visit.requests).toEqual([pathToFileURL(join(out, 'report.html')).href]);
      expect(await visit.page.$eval('#non-finite-table', (t) => (t as HTMLElement).innerText)).toContain('NaN');
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('countNonFinite', () => {
  it('counts NaN, +Inf and −Inf only in tokens whose norm is not finite', () => {
    const x = Float32Array.from([1, NaN, 2, Infinity, 3, 4, -Infinity, NaN, 0]); // 3 tokens × 3 dims
    const norms = Float32Array.from([NaN, Infinity, NaN]);
    expect(countNonFinite(x, 0, 3, 3, norms)).toEqual({ nan: 2, posInf: 1, negInf: 1 });
    // A norm that overflowed float32 from finite values is screened, then found clean.
    expect(countNonFinite(Float32Array.from([3e38, 3e38]), 0, 1, 2, Float32Array.from([Infinity]))).toBeUndefined();
    expect(countNonFinite(x, 0, 3, 3, Float32Array.from([1, 1, 1]))).toBeUndefined();
  });

  it('finiteCopy zeroes exactly the non-finite cells of the range', () => {
    expect(Array.from(finiteCopy(Float32Array.from([9, NaN, -Infinity, 5, Infinity]), 1, 3))).toEqual([0, 0, 5]);
  });

  it('summarizeNonFinite adds per-layer counts and the first and last layer', () => {
    const layers = [{ layer: 0 }, { layer: 1 }, { layer: 2 }] as { layer: number; nonFinite?: unknown }[];
    const rows = [
      { file: 1, layer: 1, nan: 2, posInf: 0, negInf: 1 },
      { file: 1, layer: 2, nan: 5, posInf: 0, negInf: 0 },
      { file: 4, layer: 1, nan: 0, posInf: 3, negInf: 0 },
    ];
    expect(summarizeNonFinite(rows, layers as never)).toEqual({ firstLayer: 1, lastLayer: 2, images: 2, cells: { nan: 7, posInf: 3, negInf: 1 } });
    expect(layers[0].nonFinite).toBeUndefined();
    expect(layers[1].nonFinite).toEqual({ images: 2, nan: 2, posInf: 3, negInf: 1 });
    expect(summarizeNonFinite([], [])).toBeUndefined();
  });
});
