/**
 * The one script every report runs (besides Chart.js): draw the charts from the embedded JSON and make
 * tables sortable. It is a constant so its sha256 in the CSP never changes with the data; it reads data
 * only through JSON.parse and writes only text and Chart.js canvases (never innerHTML).
 */
export const CLIENT_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('massivit-data').textContent);
  if (window.Chart) {
    Chart.defaults.animation = false;
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  }
  var charts = data.charts || {};
  // Same labels as logTickLabel in charts.ts: only powers of ten on log axes.
  function powerLabel(value) {
    var p = Math.log10(value);
    if (!(Math.abs(p - Math.round(p)) < 1e-6)) return '';
    return value >= 1 ? Math.round(value).toLocaleString('en-US') : String(Number(value.toPrecision(1)));
  }
  function decorate(config) {
    var scales = (config.options && config.options.scales) || {};
    Object.keys(scales).forEach(function (k) {
      var ticks = scales[k] && scales[k].ticks;
      if (ticks && ticks.powersOfTen) ticks.callback = powerLabel;
    });
  }
  function draw(canvas, config) {
    if (!config || !window.Chart) return;
    config.options = config.options || {};
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    decorate(config);
    new Chart(canvas, config);
  }
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    draw(canvas, charts[canvas.getAttribute('data-chart')]);
  });
  // A <select data-chart-switch="id"> redraws chart id with data.variants[id][value] (e.g. another layer).
  var variants = data.variants || {};
  document.querySelectorAll('select[data-chart-switch]').forEach(function (select) {
    var id = select.getAttribute('data-chart-switch');
    select.addEventListener('change', function () {
      var canvas = document.getElementById(id);
      var choice = variants[id] && variants[id][select.value];
      if (!canvas || !choice || !window.Chart) return;
      var old = Chart.getChart(canvas);
      if (old) old.destroy();
      draw(canvas, JSON.parse(JSON.stringify(choice))); // Chart.js mutates its config: keep the variant pristine
    });
  });
  function key(row, col) {
    var cell = row.children[col];
    var raw = cell ? cell.getAttribute('data-sort') : '';
    var n = Number(raw);
    return raw !== '' && isFinite(n) ? n : raw;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.querySelectorAll('th[data-col]');
    heads.forEach(function (th) {
      function sort() {
        var col = Number(th.getAttribute('data-col'));
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, col), y = key(b, col);
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
          return String(x).localeCompare(String(y)) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  });
  document.documentElement.setAttribute('data-ready', 'true');
})();
`;
