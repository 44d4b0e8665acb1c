/**
 * The page shell shared by every report: one self-contained HTML file with Chart.js inlined from
 * node_modules, a Content-Security-Policy that allows only the page's own inline script and style (by
 * sha256 hash) and data: images, and escaping helpers. Nothing here makes or allows a network request.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CLIENT_SCRIPT } from './client.js';
import { REPORT_CSS } from './style.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a quoted attribute value. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become \u escapes so no string
 * from a file name or config can close the script element; U+2028/2029 too, for old JSON.parse callers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function sha256Source(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

let chartSource: string | undefined;

/** Chart.js's UMD build from node_modules, without its source-map comment (devtools would fetch it). */
function chartJsSource(): string {
  if (chartSource === undefined) {
    const entry = createRequire(import.meta.url).resolve('chart.js');
    const text = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8').replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '\n');
    // An inline script ends at the first "</script"; the bundle has none, and we refuse to inline one that does.
    if (/<\/script/i.test(text)) throw new Error('chart.umd.min.js contains "</script": cannot inline it safely');
    chartSource = text;
  }
  return chartSource;
}

export interface PageOptions {
  title: string;
  /** Body HTML, already escaped by the caller. */
  body: string;
  /** Embedded as JSON and read by the client script (chart configs). */
  data: unknown;
}

/**
 * The CSP: no fetch, no frames, no external anything; only the hashed inline script/style and data: images;
 * no <base> and no form submission. CSP cannot stop navigation: Chromium 156 rejects `navigate-to` as an
 * unrecognised directive (with a console warning, so it is left out) and follows a
 * <meta http-equiv="refresh"> even inside <body>. Escaping every value (esc) and checking every field read
 * from a scan folder (validate.ts) is what keeps such markup out.
 */
function contentSecurityPolicy(scripts: string[], styles: string[]): string {
  return [
    "default-src 'none'",
    `script-src ${scripts.map(sha256Source).join(' ')}`,
    `style-src ${styles.map(sha256Source).join(' ')}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderPage(opts: PageOptions): string {
  const chart = chartJsSource();
  const csp = contentSecurityPolicy([chart, CLIENT_SCRIPT], [REPORT_CSS]);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(opts.title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    opts.body,
    `<script type="application/json" id="massivit-data">${jsonForScript(opts.data)}</script>`,
    `<script>${chart}</script>`,
    `<script>${CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A number for a table cell or caption: 3 significant digits, no exponent below 1e6. */
export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(digits - 1);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

/** A table whose header cells sort the rows (client script). Cells are [display HTML, sort key]. */
export function sortableTable(id: string, headers: string[], rows: [string, string | number][][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  const head = headers.map((h, i) => `<th data-col="${i}" tabindex="0">${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map(([html, key]) => `<td data-sort="${esc(key)}">${html}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table class="sortable" id="${esc(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A figure holding one Chart.js canvas, drawn by the client script from the embedded config `id`. */
export function chartFigure(id: string, caption: string, tall = false): string {
  return `<figure class="chart${tall ? ' tall' : ''}"><div class="canvas-box"><canvas id="${esc(id)}" data-chart="${esc(id)}"></canvas></div><figcaption>${caption}</figcaption></figure>`;
}
