/**
 * PNG figures for papers: every Chart.js chart through chartjs-node-canvas (an optional dependency: the
 * native `canvas` package may be missing), every SVG heatmap through sharp (always available).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { withTickLabels, type ChartConfig } from './charts.js';
import { svgToPng } from './svg.js';

/** 800 × 500 CSS px at devicePixelRatio 2 → 1600 × 1000 px: 5.3 in wide at 300 dpi. */
export const FIGURE_SIZE = { width: 800, height: 500, devicePixelRatio: 2 };

/** How chartjs-node-canvas is loaded; tests pass a loader that fails, as on a machine without `canvas`. */
export type CanvasLoader = () => Promise<unknown>;

interface NodeCanvasModule {
  ChartJSNodeCanvas: new (o: { width: number; height: number; backgroundColour?: string }) => {
    renderToBuffer(config: unknown, mime?: 'image/png'): Promise<Buffer>;
  };
}

export interface FigureResult {
  dir: string;
  written: string[];
  /** Set when the Chart.js figures could not be drawn (the HTML is written regardless). */
  skipped?: string;
}

const defaultLoader: CanvasLoader = () => import('chartjs-node-canvas');

/** Why the canvas renderer is unavailable, in one line a user can act on. */
function skipReason(err: unknown): string {
  const first = errorMessage(err).split('\n')[0];
  return `chartjs-node-canvas could not be loaded (${first}); install the optional native dependency with \`npm install canvas chartjs-node-canvas\` (it needs Cairo/Pango system libraries)`;
}

export async function writeFigures(
  dir: string,
  charts: Record<string, ChartConfig>,
  svgs: Record<string, string>,
  load: CanvasLoader = defaultLoader,
): Promise<FigureResult> {
  mkdirSync(dir, { recursive: true });
  const result: FigureResult = { dir, written: [] };
  for (const [name, svg] of Object.entries(svgs)) {
    const path = join(dir, `${name}.png`);
    writeFileSync(path, await svgToPng(svg));
    result.written.push(path);
  }
  if (Object.keys(charts).length === 0) return result;
  let renderer: InstanceType<NodeCanvasModule['ChartJSNodeCanvas']>;
  try {
    const mod = (await load()) as NodeCanvasModule & { default?: NodeCanvasModule };
    const Ctor = mod.ChartJSNodeCanvas ?? mod.default?.ChartJSNodeCanvas;
    if (typeof Ctor !== 'function') throw new Error('the module has no ChartJSNodeCanvas export');
    renderer = new Ctor({ width: FIGURE_SIZE.width, height: FIGURE_SIZE.height, backgroundColour: 'white' });
  } catch (err) {
    result.skipped = skipReason(err);
    return result;
  }
  for (const [name, config] of Object.entries(charts)) {
    // Chart.js mutates what it is given; the HTML embeds the same config, so draw a copy.
    const copy = structuredClone(config);
    copy.options = { ...copy.options, devicePixelRatio: FIGURE_SIZE.devicePixelRatio, responsive: false, animation: false };
    const path = join(dir, `${name}.png`);
    writeFileSync(path, await renderer.renderToBuffer(withTickLabels(copy), 'image/png'));
    result.written.push(path);
  }
  return result;
}

/** The line a command prints about figures. */
export function describeFigures(r: FigureResult): string {
  const base = `${r.written.length} PNG figure${r.written.length === 1 ? '' : 's'} in ${r.dir}`;
  return r.skipped ? `${base}; Chart.js PNG figures skipped: ${r.skipped}` : base;
}
