/**
 * Contender (b): a full massivit scan (every layer tapped, all default statistics, SQLite store, scan.json)
 * through the library call the CLI makes, in a fresh process so its wall time, CPU time and peak RSS are
 * its own. The report stage (and the feature × token view it shows) is off: it is not part of the analysis;
 * `--report` turns both on, as the CLI chains them.
 * Usage: node bench/scan-child.mjs <model dir> <image dir> <out dir> <threads> <batch> [--report]
 * Prints one JSON line.
 */
import { reportAfterScan } from '../dist/pipelines/report.js';
import { scan } from '../dist/pipelines/scan.js';

const [model, images, out, threads, batch, flag] = process.argv.slice(2);
const start = performance.now();
const report = flag === '--report';
const { summary, outDir } = await scan({ model, images, out, threads: Number(threads), batch: Number(batch), device: 'cpu', view: report });
if (report) await reportAfterScan({ outDir });
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage();
const images_ = summary.images.scanned + summary.images.failed;
process.stdout.write(JSON.stringify({ images: images_, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
