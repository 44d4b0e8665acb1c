/** What a report section builder returns: its HTML and the charts, figures and chart variants it needs. */
import type { ChartConfig } from './charts.js';

export interface ReportPart {
  html: string;
  /** Drawn in the page (canvas id = key) and written as PNG figures. */
  charts: Record<string, ChartConfig>;
  /** Inlined SVGs, written as PNG figures by sharp (key = figure name). */
  svgs: Record<string, string>;
  /** Charts written only as PNG figures (e.g. the norm histogram of another layer). */
  figureCharts?: Record<string, ChartConfig>;
  /** Chart id → option value → config: what a `<select data-chart-switch>` redraws the chart with. */
  variants?: Record<string, Record<string, ChartConfig>>;
  notes?: string[];
}

export function emptyPart(html: string): ReportPart {
  return { html, charts: {}, svgs: {} };
}
