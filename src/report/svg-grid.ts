/**
 * A generic grid heatmap as SVG (inlined in the HTML, turned into a PNG figure by sharp like svg.ts): the
 * high-norm frequency per patch position, the sink share per block × head, the CLS → patch attention map.
 */
import { esc } from './html.js';
import { viridis } from './svg.js';

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

export interface GridHeatmap {
  /** Values [row][col]; null cells are drawn grey (no data). */
  grid: (number | null)[][];
  title: string;
  subtitle: string;
  /** Under the grid: what the columns are. */
  xLabel: string;
  /** Left of the grid, rotated: what the rows are. */
  yLabel?: string;
  /** Cell text and tooltip for a value. */
  format: (value: number) => string;
  /** Tooltip prefix of a cell (default "row r, col c"). */
  cellName?: (row: number, col: number) => string;
  /** Row and column tick labels (default their index). */
  rowLabels?: string[];
  colLabels?: string[];
  /** Colour scale: 'heat' (white → red, for frequencies) or 'viridis' (for attention mass). */
  palette?: 'heat' | 'viridis';
  /** Top of the colour scale (default the largest value; the bottom is 0). */
  max?: number;
  /** Print values in the cells when they fit (default true). */
  cellText?: boolean;
}

const hex = ([r, g, b]: [number, number, number]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

function heat(t: number): [number, number, number] {
  const s = Math.min(1, Math.max(0, t));
  return [Math.round(255 - s * (255 - 179)), Math.round(255 - s * (255 - 38)), Math.round(255 - s * (255 - 30))];
}

function heading(width: number, y: number, text: string, size: number, extra: string): string {
  const fit = Math.max(8, Math.min(size, (width - 24) / (0.6 * Math.max(1, text.length))));
  return `<text x="${width / 2}" y="${y}" text-anchor="middle" font-size="${fit.toFixed(1)}" ${extra} ${FONT}>${esc(text)}</text>`;
}

/** The heatmap, with a colour bar from 0 to `max` at the right. */
export function gridHeatmapSvg(h: GridHeatmap): string {
  const rows = h.grid.length;
  const cols = h.grid[0]?.length ?? 0;
  const cell = Math.max(10, Math.min(40, Math.floor(520 / Math.max(rows, cols, 1))));
  const values = h.grid.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const max = h.max ?? Math.max(0, ...values);
  const color = (v: number) => {
    const t = max > 0 ? v / max : 0;
    return h.palette === 'viridis' ? viridis(t) : heat(t);
  };
  const gw = cols * cell;
  const width = Math.max(gw + 200, 620);
  const left = Math.round((width - gw) / 2);
  const top = 66;
  const height = top + rows * cell + 46;
  const every = Math.max(1, Math.ceil(Math.max(rows, cols) / 14));
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="#ffffff"/>`];
  parts.push(heading(width, 22, h.title, 15, 'font-weight="bold"'));
  parts.push(heading(width, 42, h.subtitle, 12, 'fill="#555"'));
  const name = h.cellName ?? ((r: number, c: number) => `row ${r}, col ${c}`);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = h.grid[r][c];
      const [x, y] = [left + c * cell, top + r * cell];
      const fill = v === null || !Number.isFinite(v) ? '#e3e6eb' : hex(color(v));
      const text = v === null || !Number.isFinite(v) ? 'no data' : h.format(v);
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#d9dde5" stroke-width="0.5"><title>${esc(`${name(r, c)}: ${text}`)}</title></rect>`);
      if ((h.cellText ?? true) && v !== null && v > 0 && cell >= 26) {
        const t = max > 0 ? v / max : 0;
        const ink = h.palette === 'viridis' ? (t < 0.6 ? '#ffffff' : '#1d2330') : t > 0.55 ? '#ffffff' : '#1d2330';
        parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="${Math.min(11, cell / 3)}" fill="${ink}" ${FONT}>${esc(text)}</text>`);
      }
    }
    if (r % every === 0) parts.push(`<text x="${left - 6}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end" font-size="11" fill="#555" ${FONT}>${esc(h.rowLabels?.[r] ?? r)}</text>`);
  }
  for (let c = 0; c < cols; c += every) parts.push(`<text x="${left + c * cell + cell / 2}" y="${top - 5}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${esc(h.colLabels?.[c] ?? c)}</text>`);
  parts.push(`<text x="${left + gw / 2}" y="${height - 12}" text-anchor="middle" font-size="12" fill="#555" ${FONT}>${esc(h.xLabel)}</text>`);
  if (h.yLabel) {
    const [x, y] = [left - 34, top + (rows * cell) / 2];
    parts.push(`<text x="${x}" y="${y}" text-anchor="middle" font-size="12" fill="#555" transform="rotate(-90 ${x} ${y})" ${FONT}>${esc(h.yLabel)}</text>`);
  }
  parts.push(colorbar(left + gw + 28, top, Math.max(rows * cell, 60), max, h));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

function colorbar(x: number, y: number, height: number, max: number, h: GridHeatmap): string {
  const steps = 24;
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const t = 1 - i / (steps - 1);
    const c = h.palette === 'viridis' ? viridis(t) : heat(t);
    out.push(`<rect x="${x}" y="${y + (i * height) / steps}" width="14" height="${height / steps + 0.5}" fill="${hex(c)}"/>`);
  }
  out.push(`<text x="${x + 18}" y="${y + 10}" font-size="11" ${FONT}>${esc(h.format(max))}</text>`);
  out.push(`<text x="${x + 18}" y="${y + height}" font-size="11" ${FONT}>${esc(h.format(0))}</text>`);
  return out.join('');
}

/** "12%", "0.5%", "0%": shares in cells and captions. */
export function percent(share: number): string {
  if (!Number.isFinite(share)) return '–';
  const p = 100 * share;
  if (p === 0) return '0%';
  if (Math.abs(p) < 0.1) return `${p.toPrecision(1)}%`;
  if (Math.abs(p) < 10) return `${Number(p.toFixed(1))}%`;
  return `${Math.round(p)}%`;
}
