// The report's own script: turns every figure's static SVG (rendered by Node when the report was
// written) into an interactive Vega view (tooltips, export menu) with the inlined vega-embed.
// Without JavaScript, or when a figure fails, the static SVG stays in place.
// window.ishannotReport.ready resolves once every figure has been tried (the browser test waits
// on it); window.ishannotReport.views maps a figure id to its Vega view.
(function () {
  'use strict';
  var report = { views: {}, failed: [] };
  window.ishannotReport = report;
  var figures = Array.prototype.slice.call(document.querySelectorAll('figure[data-figure]'));
  if (typeof window.vegaEmbed !== 'function') {
    console.error('ishannot report: vega-embed did not load; showing the static figures');
    report.ready = Promise.resolve();
    return;
  }
  var options = {
    renderer: 'svg',
    mode: 'vega-lite',
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: true
  };
  report.ready = Promise.all(figures.map(function (figure) {
    var id = figure.getAttribute('data-figure');
    var specText = figure.querySelector('script.vega-spec');
    var target = figure.querySelector('.interactive');
    if (!specText || !target) return Promise.resolve();
    return window.vegaEmbed(target, JSON.parse(specText.textContent), options).then(
      function (result) {
        report.views[id] = result.view;
        var fallback = figure.querySelector('.static');
        if (fallback) fallback.remove();
      },
      function (error) {
        report.failed.push(id);
        target.remove();
        console.error('ishannot report: figure ' + id + ' stays static: ' + error);
      });
  }));
})();
