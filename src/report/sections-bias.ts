/**
 * The "Explicit attention bias" section, from a bias.json (`massivit bias`): one table answering whether
 * the explicit bias does the massive activations' job on this model, and one sentence reading it. Shown
 * on its own page (bias.html) and in a scan's report when the scan folder holds a bias.json.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BIAS_FILE } from '../contracts/files.js';
import { readBiasJson, type BiasJson, type BiasResult, type BiasVariant } from '../outputs/bias-json.js';
import { errorMessage } from '../contracts/errors.js';
import { esc, fmt, renderPage, sortableTable } from './html.js';
import { emptyPart, type ReportPart } from './parts.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { percent } from './svg-grid.js';

const LABELS: Record<BiasVariant, string> = {
  original: 'unmodified model',
  zero: 'zero: massive activations removed, no bias',
  mean: 'mean: massive activations set to their dataset mean',
  'bias + zero': 'bias + zero: massive activations removed, explicit k′, v′ slot added',
  'per-sink bias + zero': 'per-sink bias + zero: removed, one slot per sink token (its own k′, v′)',
  'bias only': 'bias only: slot added, nothing removed',
};

/** A bias.json next to a scan (a bad or foreign one becomes a note, never an error). */
export function findBias(scanDir: string, scan: ScanJson, notes: string[]): BiasJson | undefined {
  const path = join(resolve(scanDir), BIAS_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const json = readBiasJson(path);
    if (json.model.sha256 === scan.model.sha256) return json;
    notes.push(`${BIAS_FILE} was made with another model (${json.model.name}): the bias test is not shown`);
  } catch (err) {
    notes.push(`${BIAS_FILE} skipped: ${errorMessage(err)}`);
  }
  return undefined;
}

/** The answer in one sentence. */
function biasSentence(j: BiasJson): string {
  const by = (v: BiasVariant) => j.results.find((r) => r.variant === v);
  const [zero, both, orig] = [by('zero'), by('bias + zero'), by('original')];
  if (!zero || !both || !orig) return 'The bias test is incomplete: a zero or bias + zero row is missing.';
  const classifier = j.model.kind === 'classifier';
  const d = (r: BiasResult) => (classifier ? `mean KL ${fmt(r.meanKL)} nats, top-1 agreement ${percent(r.top1Agreement ?? 0)}` : `mean cosine ${r.cosine.mean.toFixed(4)}`);
  const rec = j.recovered === null ? 'zeroing did no measurable damage, so there was nothing to recover' : `the bias undoes ${(100 * j.recovered).toFixed(0)}% of zeroing's damage`;
  return `Removing the massive activations at layer ${j.layer} gives ${d(zero)}; with the explicit bias in blocks ${j.blocks[0]}–${j.blocks[j.blocks.length - 1]}, ${d(both)}: ${rec}. Attention on the sink tokens goes from ${percent(orig.sinkShare)} to ${percent(zero.sinkShare)} without the bias, and to ${percent(both.sinkShare)} on the sinks plus ${percent(both.slotShare)} on the slot with it.`;
}

function table(j: BiasJson): string {
  const headers = ['variant', 'top-1 agreement', 'mean KL (nats)', 'max KL', 'cosine mean', 'cosine min', 'attention on sinks', 'attention on slot'];
  const rows = j.results.map((r): [string, string | number][] => [
    [esc(LABELS[r.variant] ?? r.variant), r.variant],
    [r.top1Agreement === null ? '–' : percent(r.top1Agreement), r.top1Agreement ?? -1],
    [fmt(r.meanKL, 4), r.meanKL ?? -1],
    [fmt(r.maxKL, 4), r.maxKL ?? -1],
    [r.cosine.mean.toFixed(4), r.cosine.mean],
    [r.cosine.min.toFixed(4), r.cosine.min],
    [percent(r.sinkShare), r.sinkShare],
    [percent(r.slotShare), r.slotShare],
  ]);
  return sortableTable('bias-table', headers, rows, 'No results.');
}

export function biasPart(j: BiasJson | undefined): ReportPart {
  const head = '<h2 id="attention-bias">Explicit attention bias</h2>';
  if (!j) return emptyPart('');
  const html = [
    head,
    '<p>Sun et al. (2024): massive activations make attention concentrate on their tokens, which acts as an implicit bias; an explicit bias (an extra key/value slot in every attention) should make them unnecessary. Here, without retraining: each attention block from the emergence layer on gets one constant slot (k′, v′) — the mean key and value of the sink tokens over the images — and then the massive activations are removed.</p>',
    `<p class="headline">${esc(biasSentence(j))}</p>`,
    '<dl class="facts">',
    `<dt>Removed</dt><dd>${esc(j.sinks.removal)} at layer ${esc(j.layer)} (${esc(j.at.source)}): ${esc(j.sinks.removed)} cells of tokens ${esc(j.sinks.tokens.join(', '))}</dd>`,
    `<dt>Slot</dt><dd>blocks ${esc(j.blocks.join(', '))}; score offset log(${esc(j.sinks.tokens.length)}) = ${esc(j.slot.logit.toFixed(3))}, so one slot weighs as the sinks together when their keys agree</dd>`,
    `<dt>Images</dt><dd>${esc(j.images.used)} used, ${esc(j.images.failed)} failed</dd>`,
    `<dt>Output compared</dt><dd><code>${esc(j.model.output)}</code> (${j.model.kind === 'classifier' ? 'classifier: top-1 agreement and KL, plus cosine' : 'feature model: cosine only'})</dd>`,
    '</dl>',
    table(j),
  ].join('\n');
  return emptyPart(html);
}

/** bias.html: the section on a page of its own. */
export function biasPage(j: BiasJson): string {
  const body = [`<h1>Explicit attention bias in ${esc(j.model.name)}</h1>`, j.model.synthetic ? '<p class="lede">SYNTHETIC model: random weights with a planted activation.</p>' : '', biasPart(j).html].join('\n');
  return renderPage({ title: `massivit bias: ${j.model.name}`, body, data: { charts: {} } });
}
