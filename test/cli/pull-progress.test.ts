/** The pull progress display: a redrawn bar on a terminal, one line per file in logs. */
import { describe, expect, it } from 'vitest';
import { downloadProgress } from '../../src/cli/commands/models-pull.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out.join('') };
}

describe('download progress', () => {
  it('draws a bar with percent and size on a TTY, ending the line per file', () => {
    const { stream, text } = capture(true);
    const bar = downloadProgress(stream);
    bar({ file: 'onnx/model.onnx', received: 0, total: 2_000_000 });
    bar({ file: 'onnx/model.onnx', received: 2_000_000, total: 2_000_000 });
    bar({ file: 'config.json', received: 512, total: 512 });
    bar.end();
    expect(text()).toMatch(/^\ronnx\/model\.onnx\s+░{30}\s+0% 0 B\/2\.0 MB/);
    expect(text()).toMatch(/\ronnx\/model\.onnx\s+█{30}\s+100% 2\.0 MB\/2\.0 MB [^\n]*\n\rconfig\.json\s+█{30}\s+100% 512 B\/512 B [^\n]*\n$/);
  });

  it('writes one plain line per file when stderr is not a terminal', () => {
    const { stream, text } = capture(false);
    const bar = downloadProgress(stream);
    bar({ file: 'onnx/model.onnx', received: 0, total: 326_409 });
    bar({ file: 'onnx/model.onnx', received: 326_409, total: 326_409 });
    bar.end();
    expect(text()).toBe('massivit: downloading onnx/model.onnx (326.4 kB)\n');
  });
});
