/** HTML sections shared by the single-scan and comparison reports. Every string from a file is escaped here. */
import type { ActivationGroup } from '../analyze/summary.js';
import { esc, fmt, sortableTable } from './html.js';
import { ROLE_LABELS } from './charts.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { VERSION } from '../contracts/version.js';

export function roleCell(role: ActivationGroup['role']): string {
  return `<span class="role-${esc(role)}">${esc(ROLE_LABELS[role])}</span>`;
}

/** "CLS at 0, registers 1–4, patches 5–200 (14 × 14 of 16 px)". */
export function layoutText(scan: ScanJson): string {
  const t = scan.model.tokens;
  const [rows, cols] = t.patchGrid;
  const regs = t.registers.length === 0 ? 'no registers' : `registers ${t.registers[0]}–${t.registers[t.registers.length - 1]}`;
  return `CLS at ${t.cls}, ${regs}, patches ${t.patchStart}–${scan.model.sequenceLength - 1} (${rows} × ${cols} of ${scan.model.patchSize} px); ${scan.model.sequenceLength} tokens`;
}

export function criteriaText(scan: ScanJson): string {
  const c = scan.criteria;
  return `massive: |a| > ${c.absThreshold} and ≥ ${c.ratioThreshold} × median |a| of the layer; near-miss: both at ${c.nearMissFactor} × those; top-k ${c.topK}`;
}

const layers = (first: number, last: number) => (first === last ? `at layer ${first}` : `from layer ${first} to ${last}`);

/** One sentence: where the massive activations (or the near-misses) are. */
export function headline(scan: ScanJson): string {
  const describe = (groups: ActivationGroup[]) => {
    const byRole = new Map<string, Set<number>>();
    for (const g of groups) byRole.set(g.role, (byRole.get(g.role) ?? new Set()).add(g.dim));
    return [...byRole].map(([role, dims]) => `${ROLE_LABELS[role as ActivationGroup['role']]} tokens (dim${dims.size > 1 ? 's' : ''} ${[...dims].sort((a, b) => a - b).slice(0, 6).join(', ')})`).join(' and ');
  };
  const e = scan.emergence;
  if (e.firstLayer !== null) {
    const peak = Math.max(...scan.massive.map((g) => g.maxAbs));
    return `Massive activations ${layers(e.firstLayer, e.lastLayer!)} of ${scan.model.numLayers}, in ${describe(scan.massive)}; largest |a| ${fmt(peak)}.`;
  }
  const n = scan.nearMissEmergence;
  if (n.firstLayer !== null) {
    return `No activation meets the massive criterion. Near-misses ${layers(n.firstLayer, n.lastLayer!)}, in ${describe(scan.nearMisses)}.`;
  }
  return 'No massive activations and no near-misses under the criterion.';
}

export function syntheticBanner(scan: ScanJson): string {
  const s = scan.model.synthetic;
  return s ? `<p class="banner"><strong>SYNTHETIC model</strong> — not a trained network: ${esc(s.note)}</p>` : '';
}

export function errorList(scan: ScanJson): string {
  const errors = scan.images.errors;
  if (errors.length === 0) return '';
  const items = errors.map((e) => `<li><code>${esc(e.path)}</code>: ${esc(e.reason)}</li>`).join('\n');
  return `<details${errors.length <= 10 ? ' open' : ''}><summary>${errors.length} image${errors.length === 1 ? '' : 's'} could not be scanned</summary><ul>\n${items}\n</ul></details>`;
}

export function warningList(scan: ScanJson): string {
  if (scan.warnings.length === 0) return '';
  return `<ul class="warn">${scan.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
}

/** The sortable table of activation groups (massive or near-miss). */
export function groupTable(id: string, groups: ActivationGroup[], empty: string): string {
  const headers = ['layer', 'dim', 'role', 'token', 'row/col', 'images', 'mean value', 'min |a|', 'max |a|', 'mean ratio to median', 'tokens (images)'];
  const rows = groups.map((g): [string, string | number][] => [
    [esc(g.layer), g.layer],
    [esc(g.dim), g.dim],
    [roleCell(g.role), g.role],
    [esc(g.token), g.token],
    [g.position ? `${esc(g.position[0])}, ${esc(g.position[1])}` : '–', g.position ? g.position[0] * 10000 + g.position[1] : -1],
    [esc(g.images), g.images],
    [fmt(g.meanValue, 4), g.meanValue],
    [fmt(g.minAbs, 4), g.minAbs],
    [fmt(g.maxAbs, 4), g.maxAbs],
    [`${fmt(g.meanRatio, 4)}×`, g.meanRatio],
    [esc(g.tokens.map(([t, n]) => `${t} (${n})`).join(', ')), g.tokens.length],
  ]);
  return sortableTable(id, headers, rows, empty);
}

export function footer(scan: ScanJson | undefined, when: Date): string {
  const tool = scan && scan.tool.version !== VERSION ? `scan by massivit ${esc(scan.tool.version)}, report by massivit ${esc(VERSION)}` : `massivit ${esc(VERSION)}`;
  return `<footer>Generated ${esc(when.toISOString())} by ${tool}. This page is self-contained: Chart.js is inlined, images are embedded, and it makes no network request (its Content-Security-Policy forbids them).</footer>`;
}
