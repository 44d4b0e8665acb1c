/** The names of the files massivit writes, one place for each (the output folder's layout). */
import { join } from 'node:path';

/** Per-image store of a scan (SQLite), the source of truth. */
export const STORE_FILE = 'scan.sqlite';
/** The scan's dataset summary, recomputed from the store. */
export const SUMMARY_FILE = 'scan.json';
/** The feature × token view, captured by the scan with the model at hand. */
export const VIEW_FILE = join('views', 'feature-token.json');
/** An intervention's results. */
export const INTERVENE_FILE = 'intervene.json';
/** The explicit-attention-bias test (`massivit bias`), and its page. */
export const BIAS_FILE = 'bias.json';
export const BIAS_HTML = 'bias.html';
export const REPORT_FILE = 'report.html';
export const COMPARE_FILE = 'compare.html';
export const FIGURES_DIR = 'figures';
