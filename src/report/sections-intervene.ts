/**
 * The "Interventions" section of the single-scan report, from an intervene.json (`massivit intervene`):
 * the layer and cells edited, the zero / mean / random-control rows, and one sentence reading the result.
 * Found at <scanDir>/intervene.json, or passed with `massivit report <scanDir> --intervene <file>`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { INTERVENE_FILE } from '../contracts/files.js';
import { readInterveneJson, type InterveneCell, type InterveneJson, type InterveneResult } from '../outputs/intervene-json.js';
import { ROLE_LABELS } from './charts.js';
import { esc, fmt, sortableTable } from './html.js';
import { emptyPart, type ReportPart } from './parts.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { percent } from './svg-grid.js';


export interface FoundIntervention {
  json: InterveneJson;
  path: string;
  /** True when it is <scanDir>/intervene.json (the report then names it without the machine's path). */
  inScanDir?: boolean;
}


/**
 * The intervention to show: `explicit` (must exist, be valid and match the scan's model) or else
 * <scanDir>/intervene.json when it is there (a bad or foreign one becomes a note, never an error).
 */
export function findIntervention(scanDir: string, scan: ScanJson, notes: string[], explicit?: string): FoundIntervention | undefined {
  if (explicit) {
    const path = resolve(explicit);
    if (!existsSync(path)) throw new MassivitError('BAD_OPTION', `--intervene ${explicit}: no such file`, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
    const json = readInterveneJson(path);
    if (json.model.sha256 !== scan.model.sha256) {
      throw new MassivitError('BAD_OPTION', `--intervene ${explicit} was made with ${json.model.name} (sha256 ${json.model.sha256.slice(0, 12)}…), not with this scan's model (${scan.model.sha256.slice(0, 12)}…)`);
    }
    return { json, path, inScanDir: path === join(resolve(scanDir), INTERVENE_FILE) };
  }
  const path = join(resolve(scanDir), INTERVENE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const json = readInterveneJson(path);
    if (json.model.sha256 === scan.model.sha256) return { json, path, inScanDir: true };
    notes.push(`${INTERVENE_FILE} was made with another model (${json.model.name}): interventions not shown`);
  } catch (err) {
    notes.push(`${INTERVENE_FILE} skipped: ${errorMessage(err)}`);
  }
  return undefined;
}

const MODE_LABELS: Record<InterveneResult['mode'], string> = {
  zero: 'zero: set the cells to 0',
  mean: 'mean: set the cells to their dataset mean',
  noise: 'noise: draw each cell from a normal with its dataset mean and sd',
  shuffle: "shuffle: take the cells' values from another image",
  'control-zero': 'control: zero as many random ordinary cells',
};

/** Predictions whose top-1 class changed, from the agreement share. */
function changed(r: InterveneResult, images: number): number | null {
  return r.top1Agreement === null ? null : Math.round((1 - r.top1Agreement) * images);
}

/** One sentence reading the result ("zeroing changed X of N predictions; mean substitution Y; random control Z"). */
export function interventionSentence(j: InterveneJson): string {
  const by = (m: InterveneResult['mode']) => j.results.find((r) => r.mode === m);
  const [zero, mean, control] = [by('zero'), by('mean'), by('control-zero')];
  const n = j.images.used;
  const what = targetText(j);
  const parts: string[] = [];
  if (j.results.every((r) => r.top1Agreement !== null)) {
    const kl = (r: InterveneResult) => ` (mean KL ${fmt(r.meanKL)} nats)`;
    if (zero) parts.push(`zeroing ${what} changed ${changed(zero, n)} of ${n} top-1 predictions${kl(zero)}`);
    if (mean) parts.push(`mean substitution changed ${changed(mean, n)}${zero ? '' : ` of ${n}`}${kl(mean)}`);
    for (const r of others(j)) parts.push(`${r.mode} changed ${changed(r, n)}${kl(r)}`);
    if (control) parts.push(`zeroing ${control.cells} random ordinary cells (the control) changed ${changed(control, n)}${kl(control)}`);
  } else {
    const cos = (r: InterveneResult) => `${cosine(r.cosine.mean)} (min ${cosine(r.cosine.min)})`;
    parts.push(`mean cosine similarity of the output embedding to the original`);
    if (zero) parts.push(`after zeroing ${what}, ${cos(zero)}`);
    if (mean) parts.push(`after mean substitution, ${cos(mean)}`);
    for (const r of others(j)) parts.push(`after ${r.mode}, ${cos(r)}`);
    if (control) parts.push(`after zeroing ${control.cells} random ordinary cells (the control), ${cos(control)}`);
    return `${capital(parts[0])}: ${parts.slice(1).join('; ')}.`;
  }
  return `${capital(parts.join('; '))}.`;
}

/** The noise and shuffle rows (files before those modes have none). */
const others = (j: InterveneJson) => j.results.filter((r) => r.mode === 'noise' || r.mode === 'shuffle');

/** What was edited, in words: "the 4 cells at layer 8", "every dim of tokens 1, 2, 3, 4 (registers) at layers 0–11". */
export function targetText(j: InterveneJson): string {
  const layers = j.layers ?? [j.layer];
  const at = layers.length === 1 ? `layer ${layers[0]}` : `layers ${layers[0]}–${layers[layers.length - 1]}`;
  if (j.cells.tokens) return `every dim of token${j.cells.tokens.length === 1 ? '' : 's'} ${j.cells.tokens.join(', ')} (${j.cells.source}) at ${at}`;
  return `the ${j.cells.list.length} cell${j.cells.list.length === 1 ? '' : 's'} at ${at}`;
}

/** Cosines sit near 1: four decimals, so 0.99995 does not print as "1". */
const cosine = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');

const seedOf = (j: InterveneJson, mode: string) => {
  const seed = j.results.find((r) => r.mode === mode)?.seed;
  return seed === undefined ? '' : ` (seed ${esc(seed)})`;
};

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function cellText(c: InterveneCell): string {
  const at = c.position ? `r${c.position[0]}, c${c.position[1]}` : ROLE_LABELS[c.role];
  return `${c.token}:${c.dim} (${at}, mean ${fmt(c.mean, 4)})`;
}

function resultTable(j: InterveneJson): string {
  const n = j.images.used;
  const knn = j.knn ? `kNN accuracy (before ${fmt(j.knn.baseline)})` : 'kNN accuracy';
  const headers = ['intervention', 'cells', 'top-1 agreement', 'changed predictions', 'mean KL (nats)', 'max KL', 'cosine mean', 'cosine min', knn];
  const num = (v: number | null, d = 4): [string, number] => [fmt(v, d), v ?? -1];
  const rows = j.results.map((r): [string, string | number][] => {
    const c = changed(r, n);
    return [
      [esc(MODE_LABELS[r.mode] ?? r.mode), r.mode],
      [esc(r.cells), r.cells],
      [r.top1Agreement === null ? '–' : percent(r.top1Agreement), r.top1Agreement ?? -1],
      [c === null ? '–' : `${c} of ${esc(n)}`, c ?? -1],
      num(r.meanKL), num(r.maxKL), [cosine(r.cosine.mean), r.cosine.mean], [cosine(r.cosine.min), r.cosine.min], num(r.knnAccuracy, 3),
    ];
  });
  return sortableTable('intervene-table', headers, rows, 'No results.');
}

export function intervenePart(found: FoundIntervention | undefined): ReportPart {
  const head = '<h2 id="interventions">Interventions</h2>';
  if (!found) {
    return emptyPart(`${head}\n<p class="empty">No intervention results next to this scan. Run <code>massivit intervene --model &lt;model&gt; --images &lt;images&gt; --scan &lt;this folder&gt; --out &lt;this folder&gt;</code> to zero the massive activations (and set them to their mean, with a random control) and see what the model does; or pass an intervene.json with <code>massivit report &lt;this folder&gt; --intervene &lt;file&gt;</code>.</p>`);
  }
  const j = found.json;
  // Token targets list hundreds of cells: name the tokens instead.
  const cells = j.cells.tokens ? targetText(j) : j.cells.list.map(cellText).join(', ');
  const control = j.control.list.map(cellText).join(', ');
  const html = [
    head,
    '<p>Sun et al. (2024): setting the massive activations to zero at the layer where they appear breaks the model, while setting them to their dataset mean barely changes it — they act as fixed biases. Zeroing alone overstates how much a model depends on what the cells hold (Parodi et al. 2026), so noise (the cells\' dataset mean and spread, no image content) and shuffle (another image\'s content) sit beside it. The control zeroes as many random cells of ordinary magnitude.</p>',
    `<p class="headline">${esc(interventionSentence(j))}</p>`,
    '<dl class="facts">',
    `<dt>Layer${(j.layers?.length ?? 1) > 1 ? 's' : ''}</dt><dd>${esc((j.layers ?? [j.layer]).join(', '))} (${(j.layers?.length ?? 1) > 1 ? 'from ' : ''}<code>${esc(j.hook)}</code>; ${esc(j.at.source)})</dd>`,
    `<dt>Cells (${esc(j.cells.source)})</dt><dd>${esc(cells)}</dd>`,
    `<dt>Control</dt><dd>seed ${esc(j.control.seed)}: ${esc(control)}<br><span class="lede">${esc(j.control.rule)}</span></dd>`,
    ...Object.entries(j.rules ?? {}).map(([mode, rule]) => `<dt>${esc(mode)}</dt><dd>${esc(rule)}${seedOf(j, mode)}</dd>`),
    `<dt>Images</dt><dd>${esc(j.images.used)} used, ${esc(j.images.failed)} failed${j.classes ? `; ${esc(j.classes.length)} classes (kNN: k = ${esc(j.knn?.k)}, ${esc(j.knn?.metric ?? '')}, leave-one-out)` : ''}</dd>`,
    `<dt>Output compared</dt><dd><code>${esc(j.model.output)}</code> (${j.model.kind === 'classifier' ? 'classifier: top-1 agreement and KL of the class distribution, plus cosine of the logits' : 'feature model: cosine of the embedding; no classes, so no top-1 or KL'})</dd>`,
    `<dt>File</dt><dd>${found.inScanDir ? `<code>${INTERVENE_FILE}</code> in this scan folder` : `<code>${esc(found.path)}</code>`}</dd>`,
    '</dl>',
    resultTable(j),
  ].join('\n');
  return emptyPart(html);
}
