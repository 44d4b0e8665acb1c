/** The report stylesheet: one constant, hashed into the CSP like the client script. Print-friendly. */
export const REPORT_CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #fff; --soft: #f4f6f9; --accent: #b3261e;
  --cls: #d62728; --register: #7b4fc4; --patch: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 64px; color: var(--ink); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p { margin: 6px 0 10px; }
.lede { color: var(--muted); margin-bottom: 16px; }
.banner { background: #fff4d6; border: 1px solid #e8c45a; padding: 8px 12px; border-radius: 6px; margin: 12px 0; }
.warn { color: #8a5300; }
.empty { color: var(--muted); font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
figure { margin: 14px 0 22px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.canvas-box { position: relative; height: 420px; width: 100%; }
figure.tall .canvas-box { height: 520px; }
figure.svg svg { width: 100%; height: auto; max-width: 100%; display: block; }
figure.svg.narrow svg { max-width: 560px; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; white-space: normal; }
thead th { background: var(--soft); white-space: normal; vertical-align: bottom; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 10px; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 10px; }
.role-cls { color: var(--cls); font-weight: 600; }
.role-register { color: var(--register); font-weight: 600; }
.role-patch { color: var(--patch); }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 16px; }
.thumbs figure { margin: 0; }
.thumbs img { width: 100%; height: auto; display: block; border: 1px solid var(--line); image-rendering: auto; }
.thumbs figcaption { word-break: break-all; }
.switch select { font: inherit; padding: 2px 6px; margin-left: 6px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.headline { font-size: 16px; background: var(--soft); border-left: 4px solid var(--accent); padding: 8px 12px; margin: 10px 0; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); padding-top: 8px; }
a { color: #1f5fbf; }
@media (max-width: 820px) { .cols { grid-template-columns: 1fr; } }
@media print { body { max-width: none; padding: 0; } h2 { break-before: auto; } figure, table { break-inside: avoid; } }
`;
