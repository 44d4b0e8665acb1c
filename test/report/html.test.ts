/** The page shell: escaping, JSON embedding, and a CSP whose hashes match exactly the inline script/style. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { esc, fmt, jsonForScript, renderPage } from '../../src/report/html.js';
import { logTickLabel } from '../../src/report/charts.js';

const HOSTILE = `"><img src=x onerror=alert(1)></script><script>alert(2)</script>&'`;

describe('escaping', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(esc(HOSTILE)).not.toMatch(/[<>"']/);
  });

  it('embeds JSON that cannot close its script element and parses back unchanged', () => {
    const value = { name: HOSTILE, sep: '\u2028\u2029', nested: [`</script>`, '<!--'] };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&]/);
    expect(text).not.toContain('\u2028');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('renderPage', () => {
  const html = renderPage({ title: HOSTILE, body: `<p>${esc(HOSTILE)}</p>`, data: { charts: {}, name: HOSTILE } });

  it('allows exactly its own inline scripts and style by sha256, and nothing from the network', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1].replace(/&#39;/g, "'");
    expect(csp).toBeDefined();
    const directives = new Map(csp!.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('img-src')).toEqual(['data:']);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    // Executable inline scripts: every <script> without a type attribute.
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => hash(m[1]));
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => hash(m[1]));
    expect(scripts).toHaveLength(2); // Chart.js and the client script
    expect(directives.get('script-src')!.sort()).toEqual(scripts.sort());
    expect(directives.get('style-src')).toEqual(styles);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it('loads nothing external and escapes the title', () => {
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(html).not.toContain('sourceMappingURL');
    expect(html).toContain(`<title>${esc(HOSTILE)}</title>`);
    expect(html).not.toContain('<img src=x');
    // Only one data block, and the hostile string in it is inert.
    const data = /<script type="application\/json" id="massivit-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(data).name).toBe(HOSTILE);
  });
});

describe('number formatting', () => {
  it('prints 3 significant digits, thousands separators and exponents for extremes', () => {
    expect(fmt(1199.944)).toBe('1,200');
    expect(fmt(-750.54, 4)).toBe('-750.5');
    expect(fmt(0.27111)).toBe('0.271');
    expect(fmt(2.5e-5)).toBe('2.50e-5');
    expect(fmt(null)).toBe('–');
  });

  it('labels log axes at powers of ten only', () => {
    expect([0.01, 1, 10, 1000, 300, 20].map(logTickLabel)).toEqual(['0.01', '1', '10', '1,000', '', '']);
  });
});
