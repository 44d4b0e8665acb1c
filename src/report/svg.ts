/**
 * The two heatmaps, as SVG: inlined in the HTML as is (crisp, no script) and turned into PNG figures by
 * @napi-rs/canvas (sharp where its binary cannot load; report/figures.ts).
 */
import sharp from 'sharp';
import { esc, fmt } from './html.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { gridValues, type FeatureTokenView } from '../analyze/feature-token.js';

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

/** Viridis, 5 stops: perceptually even, readable in greyscale print. */
const VIRIDIS: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(VIRIDIS[i][c] + f * (VIRIDIS[i + 1][c] - VIRIDIS[i][c]))) as [number, number, number];
}

/** A centred heading whose font shrinks so a long model name still fits the figure (≈ 0.6 em per glyph). */
function heading(width: number, y: number, text: string, size: number, extra = ''): string {
  const fit = Math.max(8, Math.min(size, (width - 24) / (0.6 * Math.max(1, text.length))));
  return `<text x="${width / 2}" y="${y}" text-anchor="middle" font-size="${fit.toFixed(1)}" ${extra} ${FONT}>${esc(text)}</text>`;
}

const hex = ([r, g, b]: [number, number, number]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** White → red by share of the maximum count. */
function heat(share: number): string {
  const s = Math.min(1, Math.max(0, share));
  return hex([Math.round(255 - s * (255 - 179)), Math.round(255 - s * (255 - 38)), Math.round(255 - s * (255 - 30))]);
}

/**
 * Patch-grid heatmap: how many images hold a massive activation (or near-miss) at each patch position.
 * `what` names the kind in the title; counts are drawn in the cells.
 */
export function positionHeatmapSvg(grid: number[][], scan: ScanJson, what: string): string {
  const rows = grid.length;
  const cols = grid[0]?.length ?? 0;
  const cell = Math.max(10, Math.min(36, Math.floor(520 / Math.max(rows, cols, 1))));
  const width = Math.max(cols * cell + 68, 600);
  const [left, top] = [Math.round((width - cols * cell) / 2), 62];
  const height = top + rows * cell + 44;
  const max = Math.max(1, ...grid.flat());
  const every = Math.max(1, Math.ceil(rows / 14));
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(heading(width, 22, `${scan.model.name}: ${what} by patch position`, 15, 'font-weight="bold"'));
  parts.push(heading(width, 42, `images holding one at each position, any layer (of ${scan.images.scanned}; darkest = ${max})`, 12, 'fill="#555"'));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const n = grid[r][c];
      const [x, y] = [left + c * cell, top + r * cell];
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heat(n / max)}" stroke="#d9dde5" stroke-width="0.5"><title>row ${r}, col ${c}: ${n} image${n === 1 ? '' : 's'}</title></rect>`);
      if (n > 0 && cell >= 18) {
        const ink = n / max > 0.55 ? '#ffffff' : '#1d2330';
        parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="${Math.min(12, cell / 2.4)}" fill="${ink}" ${FONT}>${n}</text>`);
      }
    }
    if (r % every === 0) parts.push(`<text x="${left - 6}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end" font-size="11" fill="#555" ${FONT}>${r}</text>`);
  }
  for (let c = 0; c < cols; c += every) parts.push(`<text x="${left + c * cell + cell / 2}" y="${top - 4}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${c}</text>`);
  parts.push(`<text x="${left + (cols * cell) / 2}" y="${height - 12}" text-anchor="middle" font-size="12" fill="#555" ${FONT}>patch column (row number at left), as the model sees the image</text>`);
  return svgDoc(width, height, parts);
}

function svgDoc(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

/** The pooled |a| grid as a PNG (nearest-neighbour: sx px per column, rowY[r]..rowY[r+1] per row), viridis on log10 |a|. */
async function gridPng(view: FeatureTokenView, sx: number, rowY: number[]): Promise<Buffer> {
  const { cols } = view.grid;
  const values = gridValues(view.grid);
  const span = Math.max(view.grid.log10Max - view.grid.log10Min, 1e-6);
  const [w, h] = [cols * sx, rowY[rowY.length - 1]];
  const raw = Buffer.alloc(w * h * 3);
  let r = 0;
  for (let y = 0; y < h; y++) {
    while (y >= rowY[r + 1]) r++;
    for (let x = 0; x < w; x++) raw.set(viridis((values[r * cols + Math.floor(x / sx)] - view.grid.log10Min) / span), (y * w + x) * 3);
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/** Feature × token heatmap (the 3-D plot seen from above): tokens down, dims across, colour = log10 |a|. */
export async function featureTokenSvg(view: FeatureTokenView, scan: ScanJson): Promise<string> {
  const { cols, rowStarts, dimBin } = view.grid;
  const rows = rowStarts.length;
  const t = scan.model.tokens;
  const special = Math.min(t.patchStart, view.tokens);
  const sx = Math.max(1, Math.floor(700 / cols));
  const sy = Math.max(1, Math.floor(420 / Math.max(1, rows - special)));
  // CLS and register rows are drawn at least 12 px tall so each can be labelled.
  const heights = rowStarts.map((_, r) => (r < special ? Math.max(sy, 12) : sy));
  const offsets = heights.reduce((acc, hgt) => [...acc, acc[acc.length - 1] + hgt], [0]);
  const [pw, ph] = [cols * sx, offsets[offsets.length - 1]];
  const [left, top] = [150, 62];
  const width = left + pw + 195;
  const height = top + ph + 64;
  const png = await gridPng(view, sx, offsets);
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="#ffffff"/>`];
  parts.push(heading(width, 22, `${scan.model.name}: |a| per token and feature, layer ${view.layer}`, 15, 'font-weight="bold"'));
  parts.push(heading(width, 42, `image ${view.image}; ${view.tokens} tokens × ${view.dims} dims, max-pooled to ${rows} × ${cols}; median |a| ${fmt(view.median)}`, 12, 'fill="#555"'));
  parts.push(`<image x="${left}" y="${top}" width="${pw}" height="${ph}" href="data:image/png;base64,${png.toString('base64')}"/>`);
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#1d2330" stroke-width="1"/>`);
  const rowY = (token: number) => {
    let r = 0;
    while (r + 1 < rows && rowStarts[r + 1] <= token) r++;
    return top + offsets[r] + heights[r] / 2;
  };
  const label = (y: number, text: string, color: string) =>
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end" font-size="11.5" fill="${color}" ${FONT}>${esc(text)}</text>`);
  for (let i = 0; i < special; i++) label(rowY(i), i === t.cls ? 'CLS' : `reg ${t.registers.indexOf(i) + 1}`, i === t.cls ? '#d62728' : '#7b4fc4');
  const tickEvery = Math.max(1, Math.ceil((view.tokens - t.patchStart) / 6));
  for (let tok = t.patchStart; tok < view.tokens; tok += tickEvery) if (rowY(tok) - rowY(special - 1) > 14) label(rowY(tok), `token ${tok}`, '#555');
  // The strongest tokens get a marker at the right, named by role.
  const strongest = Array.from({ length: view.tokens }, (_, i) => i).sort((a, b) => view.tokenMax[b] - view.tokenMax[a]).slice(0, 3);
  let lastY = -Infinity;
  for (const tok of strongest.sort((a, b) => a - b)) {
    const y = Math.max(rowY(tok), lastY + 13); // nudge apart markers of neighbouring rows
    lastY = y;
    const name = tok === t.cls ? 'CLS' : tok < t.patchStart ? `reg ${t.registers.indexOf(tok) + 1}` : `token ${tok}`;
    parts.push(`<text x="${left + pw + 6}" y="${y + 4}" font-size="11.5" fill="#b3261e" ${FONT}>◀ ${esc(name)}</text>`);
  }
  // Massive / near-miss dims: a tick and a label under the plot.
  view.topDims.filter((d) => d.flagged).forEach((d, i) => {
    const x = left + Math.floor(d.dim / dimBin) * sx + sx / 2;
    parts.push(`<line x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 8 + (i % 2) * 12}" stroke="#b3261e" stroke-width="1.5"/>`);
    parts.push(`<text x="${x}" y="${top + ph + 20 + (i % 2) * 12}" text-anchor="middle" font-size="11.5" fill="#b3261e" ${FONT}>dim ${esc(d.dim)}</text>`);
  });
  parts.push(`<text x="${left + pw / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="#555" ${FONT}>${esc(`dim (0–${view.dims - 1}${dimBin > 1 ? `, ${dimBin} per column` : ''}); massive/near-miss dims marked in red`)}</text>`);
  parts.push(colorbar(left + pw + 100, top, ph, view.grid.log10Min, view.grid.log10Max));
  return svgDoc(width, height, parts);
}

function colorbar(x: number, y: number, h: number, lo: number, hi: number): string {
  const steps = 24;
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const [r, g, b] = viridis(1 - i / (steps - 1));
    out.push(`<rect x="${x}" y="${y + (i * h) / steps}" width="14" height="${h / steps + 0.5}" fill="${hex([r, g, b])}"/>`);
  }
  const fmtPow = (p: number) => (Math.abs(p) < 4 ? fmt(10 ** p) : `1e${Math.round(p)}`);
  out.push(`<text x="${x + 18}" y="${y + 10}" font-size="11" ${FONT}>${esc(fmtPow(hi))}</text>`);
  out.push(`<text x="${x + 18}" y="${y + h}" font-size="11" ${FONT}>${esc(`≤ ${fmtPow(lo)}`)}</text>`);
  out.push(`<text x="${x + 7}" y="${y - 8}" text-anchor="middle" font-size="11" ${FONT}>|a|</text>`);
  return out.join('');
}

/** An SVG figure rendered to PNG at print resolution (2× its nominal size). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 192 }).png().toBuffer();
}
