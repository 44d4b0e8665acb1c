/** A one-line progress bar with ETA on stderr, only when stderr is a terminal. */
import type { ScanProgress } from '../pipelines/scan.js';

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ((p: ScanProgress) => void) & { end(): void } {
  const start = Date.now();
  const enabled = stream.isTTY === true;
  const draw = (p: ScanProgress) => {
    if (!enabled || p.total === 0) return;
    const frac = p.done / p.total;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (Date.now() - start) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : 0;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    stream.write(`\r${bar} ${p.done}/${p.total} images, ${p.failed} failed, ${p.reused} reused, ETA ${eta.toFixed(0)}s `);
  };
  return Object.assign(draw, { end: () => enabled && stream.write('\n') });
}
