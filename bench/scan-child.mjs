/**
 * Contender (b): the real `massivit scan` command line, run in this process so its peak RSS and wall
 * time can be reported. Usage: node bench/scan-child.mjs <massivit scan args...>; prints one JSON line.
 */
import { main } from '../dist/cli/index.js';

const start = performance.now();
const code = await main(['node', 'massivit', 'scan', ...process.argv.slice(2)]);
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ code, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
process.exitCode = code;
