// Renders Vega-Lite specs to standalone SVG files, headless (no browser, no canvas package):
//   node render_figures.js VEGA_DIR JOBS.json
// VEGA_DIR holds vega.min.js and vega-lite.min.js (scripts/setup.sh puts them in
// ~/.cache/ishannot/vega); JOBS.json is [{"id": ..., "spec": SPEC.json, "svg": OUT.svg}, ...].
// Each SVG is written to OUT.svg.partial and renamed. Prints {"warnings": [...]} on stdout;
// a figure that fails is named on stderr and the exit status is 1.
// Embedded into the ishannot binary at build time (CMake -> report_assets.h).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [vegaDir, jobsPath] = process.argv.slice(2);
// The browser bundles (UMD): run at global scope they define globalThis.vega and .vegaLite.
for (const name of ['vega.min.js', 'vega-lite.min.js']) {
  const file = path.join(vegaDir, name);
  vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
}

const warnings = [];
function loggerFor(id) {
  const logger = vega.logger(vega.Warn);
  logger.warn = (...args) => { warnings.push(`${id}: ${args.join(' ')}`); return logger; };
  logger.error = (...args) => { throw new Error(args.join(' ')); };
  return logger;
}

async function render(job) {
  const spec = JSON.parse(fs.readFileSync(job.spec, 'utf8'));
  const logger = loggerFor(job.id);
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  const svg = await view.toSVG();
  view.finalize();
  fs.writeFileSync(job.svg + '.partial', svg);
  fs.renameSync(job.svg + '.partial', job.svg);
}

(async () => {
  let failed = 0;
  for (const job of JSON.parse(fs.readFileSync(jobsPath, 'utf8'))) {
    try {
      await render(job);
    } catch (e) {
      failed += 1;
      console.error(`figure ${job.id}: ${e && e.message ? e.message : e}`);
    }
  }
  process.stdout.write(JSON.stringify({ warnings }) + '\n');
  process.exit(failed ? 1 : 0);
})();
