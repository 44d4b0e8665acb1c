/**
 * PNG figures for papers: every Chart.js chart and every SVG heatmap drawn on @napi-rs/canvas (Skia; its
 * prebuilt binary comes from the npm registry, no system library), with a bundled DejaVu Sans so text
 * renders on machines without fonts. If the native binary cannot load on some platform, the SVG heatmaps
 * fall back to sharp and the Chart.js figures are skipped with a message; the HTML is written regardless.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ensureOutputDir, writeFileAtomic } from '../contracts/atomic.js';
import { errorMessage } from '../contracts/errors.js';
import { withTickLabels, type ChartConfig } from './charts.js';
import { svgToPng } from './svg.js';

/** 800 × 500 CSS px at devicePixelRatio 2 → 1600 × 1000 px: 5.3 in wide at 300 dpi. */
const FIGURE_SIZE = { width: 800, height: 500, devicePixelRatio: 2 };

/** The family name the bundled font is registered under; charts and SVG text ask for it first. */
const FIGURE_FONT = 'DejaVu Sans';

/** How the canvas module is loaded; tests pass a loader that fails, as on a platform without a binary. */
export type CanvasLoader = () => Promise<unknown>;

type CanvasModule = typeof import('@napi-rs/canvas');

export interface FigureResult {
  dir: string;
  written: string[];
  /** Set when the Chart.js figures could not be drawn (the HTML is written regardless). */
  skipped?: string;
}

const defaultLoader: CanvasLoader = () => import('@napi-rs/canvas');

/** Registers the bundled DejaVu Sans (regular and bold) once per process; false if the files are missing. */
let fontRegistered: boolean | undefined;
function registerFont(canvas: CanvasModule): boolean {
  if (fontRegistered !== undefined) return fontRegistered;
  const require = createRequire(import.meta.url);
  try {
    for (const weight of [400, 700]) {
      canvas.GlobalFonts.registerFromPath(require.resolve(`@fontsource/dejavu-sans/files/dejavu-sans-latin-${weight}-normal.woff2`), FIGURE_FONT);
    }
    fontRegistered = true;
  } catch {
    fontRegistered = false; // system fonts still render; only machines with none lose text
  }
  return fontRegistered;
}

/** Why the canvas renderer is unavailable, in one line a user can act on. */
function skipReason(err: unknown): string {
  const first = errorMessage(err).split('\n')[0];
  return (
    `@napi-rs/canvas could not be loaded (${first}); its prebuilt binary for ${process.platform}-${process.arch} is an optional ` +
    'dependency of @napi-rs/canvas: reinstall with `npm install @napi-rs/canvas` (optional dependencies must not be omitted)'
  );
}

async function loadCanvas(load: CanvasLoader): Promise<CanvasModule> {
  const mod = (await load()) as CanvasModule & { default?: CanvasModule };
  const canvas = typeof mod.createCanvas === 'function' ? mod : mod.default;
  if (typeof canvas?.createCanvas !== 'function') throw new Error('the module has no createCanvas export');
  registerFont(canvas);
  return canvas;
}

/** One Chart.js chart on a white canvas, as PNG bytes. */
async function chartPng(canvas: CanvasModule, config: ChartConfig): Promise<Buffer> {
  const { Chart, registerables } = await import('chart.js');
  Chart.register(...registerables);
  const surface = canvas.createCanvas(FIGURE_SIZE.width, FIGURE_SIZE.height);
  const ctx = surface.getContext('2d');
  // Chart.js mutates what it is given; the HTML embeds the same config, so draw a copy.
  const copy = withTickLabels(structuredClone(config));
  copy.options = { ...copy.options, devicePixelRatio: FIGURE_SIZE.devicePixelRatio, responsive: false, animation: false };
  const white = { id: 'white-background', beforeDraw: (c: { ctx: CanvasRenderingContext2D; width: number; height: number }) => {
    c.ctx.save();
    c.ctx.fillStyle = 'white';
    c.ctx.fillRect(0, 0, c.width, c.height);
    c.ctx.restore();
  } };
  Chart.defaults.font.family = `'${FIGURE_FONT}', sans-serif`;
  const chart = new Chart(ctx as unknown as CanvasRenderingContext2D, { ...(copy as object), plugins: [white] } as never);
  try {
    return await surface.encode('png');
  } finally {
    chart.destroy();
  }
}

/** An SVG drawn by Skia at 2× (the same density sharp used), so its text uses the bundled font. */
async function svgPngOnCanvas(canvas: CanvasModule, svg: string): Promise<Buffer> {
  const image = new canvas.Image();
  image.src = Buffer.from(svg);
  const surface = canvas.createCanvas(Math.round(image.width * 2), Math.round(image.height * 2));
  surface.getContext('2d').drawImage(image, 0, 0, surface.width, surface.height);
  return surface.encode('png');
}

export async function writeFigures(
  dir: string,
  charts: Record<string, ChartConfig>,
  svgs: Record<string, string>,
  load: CanvasLoader = defaultLoader,
): Promise<FigureResult> {
  ensureOutputDir(dir);
  const result: FigureResult = { dir, written: [] };
  let canvas: CanvasModule | undefined;
  try {
    canvas = await loadCanvas(load);
  } catch (err) {
    result.skipped = skipReason(err);
  }
  const write = (name: string, png: Buffer) => {
    const path = join(dir, `${name}.png`);
    writeFileAtomic(path, png);
    result.written.push(path);
  };
  for (const [name, svg] of Object.entries(svgs)) write(name, canvas ? await svgPngOnCanvas(canvas, svg) : await svgToPng(svg));
  if (canvas) for (const [name, config] of Object.entries(charts)) write(name, await chartPng(canvas, config));
  if (Object.keys(charts).length === 0) delete result.skipped; // nothing was left out
  return result;
}

/** The line a command prints about figures. */
export function describeFigures(r: FigureResult): string {
  const base = `${r.written.length} PNG figure${r.written.length === 1 ? '' : 's'} in ${r.dir}`;
  return r.skipped ? `${base}; Chart.js PNG figures skipped: ${r.skipped}` : base;
}
