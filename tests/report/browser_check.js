// Loads a report in headless Chromium and says what a reader's browser saw, as JSON:
//   node browser_check.js CHROMIUM PAGE.html RESULT.json SCREENSHOT.png
// It drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// separated by NUL bytes on file descriptors 3 and 4), so it needs nothing but Node and the
// browser. RESULT.json holds:
//   console_errors  console.error/assert calls, uncaught exceptions and browser log errors (CSP
//                   violations, failed loads);
//   requests        every URL the page asked for (the test allows file:, data:, blob:, about:);
//   figures         per <figure data-figure=ID>: rendered SVG mark elements carrying data (Vega
//                   binds each mark element's scenegraph item to el.__data__) and those data;
//   images          <img> elements, and broken_images: those that did not decode;
//   ready_error     why the report's own readiness promise failed, if it did.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [chromium, page, resultPath, screenshotPath] = process.argv.slice(2);
if (!screenshotPath) {
  console.error('usage: node browser_check.js CHROMIUM PAGE.html RESULT.json SCREENSHOT.png');
  process.exit(2);
}
const width = 1280, height = 1700, timeoutMs = 90000;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ishannot-chromium-'));
const browser = spawn(chromium, [
  '--headless', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-extensions', '--hide-scrollbars', '--mute-audio',
  `--user-data-dir=${profile}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog = (browserLog + d).slice(-4000); });

const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1;
const pending = new Map();
const listeners = [];
let buffer = '';
fromBrowser.on('data', (chunk) => {
  buffer += chunk.toString('utf8');
  let end;
  while ((end = buffer.indexOf('\0')) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners) listener(message);
    }
  }
});
function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function waitFor(method) {
  return new Promise((resolve) => listeners.push((m) => { if (m.method === method) resolve(m); }));
}

// What a page reports: the figures' mark elements and the data bound to them.
const collect = `(async () => {
  let readyError = null;
  try { await window.ishannotReport.ready; } catch (e) { readyError = String(e); }
  const figures = [];
  for (const figure of document.querySelectorAll('figure[data-figure]')) {
    const svg = figure.querySelector('.interactive svg');
    const marks = svg ? svg.querySelectorAll('.role-mark > *') : [];
    const data = [];
    for (const el of marks) {
      const item = el.__data__;
      if (item && item.datum && typeof item.datum === 'object') data.push(item.datum);
    }
    const staticSvg = figure.querySelector('.static svg');
    figures.push({ id: figure.dataset.figure, interactive: !!svg, marks: marks.length,
                   static_marks: staticSvg ? staticSvg.querySelectorAll('.role-mark > *').length : 0,
                   data: JSON.parse(JSON.stringify(data)) });
  }
  const images = Array.from(document.images);
  return { readyError, figures, title: document.title, images: images.length,
           broken_images: images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt) };
})()`;

async function main() {
  const result = { console_errors: [], requests: [], figures: [] };
  listeners.push((m) => {
    const p = m.params || {};
    if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
      result.console_errors.push(p.args.map((a) => a.value ?? a.description ?? '').join(' '));
    if (m.method === 'Runtime.exceptionThrown')
      result.console_errors.push('exception: ' + (p.exceptionDetails.exception?.description ??
                                                  p.exceptionDetails.text));
    if (m.method === 'Log.entryAdded' && p.entry.level === 'error')
      result.console_errors.push('log: ' + p.entry.text + (p.entry.url ? ' ' + p.entry.url : ''));
    if (m.method === 'Network.requestWillBeSent') result.requests.push(p.request.url);
  });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await send(`${domain}.enable`, {}, sessionId);
  await send('Emulation.setDeviceMetricsOverride',
             { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = waitFor('Page.loadEventFired');
  await send('Page.navigate', { url: 'file://' + path.resolve(page) }, sessionId);
  await loaded;
  const evaluated = await send('Runtime.evaluate',
                               { expression: collect, awaitPromise: true, returnByValue: true }, sessionId);
  if (evaluated.exceptionDetails) throw new Error('collect: ' + JSON.stringify(evaluated.exceptionDetails));
  result.figures = evaluated.result.value.figures;
  result.ready_error = evaluated.result.value.readyError;
  result.title = evaluated.result.value.title;
  result.images = evaluated.result.value.images;
  result.broken_images = evaluated.result.value.broken_images;
  const shot = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
  fs.writeFileSync(screenshotPath, Buffer.from(shot.data, 'base64'));
  fs.writeFileSync(resultPath, JSON.stringify(result));
  await send('Browser.close').catch(() => {});
}

const timer = setTimeout(() => {
  console.error(`browser_check: no answer from ${chromium} in ${timeoutMs / 1000} s; its log:\n${browserLog}`);
  browser.kill('SIGKILL');
  process.exit(1);
}, timeoutMs);
browser.on('error', (e) => { console.error(`browser_check: cannot start ${chromium}: ${e.message}`); process.exit(1); });
main().then(() => {
  clearTimeout(timer);
  browser.on('exit', () => { fs.rmSync(profile, { recursive: true, force: true }); process.exit(0); });
  setTimeout(() => browser.kill('SIGKILL'), 5000);
}, (e) => {
  console.error('browser_check: ' + e.message + '\n' + browserLog);
  browser.kill('SIGKILL');
  process.exit(1);
});
