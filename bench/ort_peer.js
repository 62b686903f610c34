// The ONNX Runtime peer of `ishannot extract` (bench/bench_ort_peer.sh): what a user who wants
// fast CPU inference would write. npm onnxruntime-node (CPU execution provider, graph
// optimisation "all", intra-op threads = the cores used), images decoded by npm sharp (libvips),
// the next batch decoded while the current one runs, features appended to a raw float32 file.
// The graph is ishannot's own network exported by ishannot_export_backbone (same weights,
// BatchNorm folded): uint8 RGB [batch, H, W, 3] in, features_<layer> out.
//
//   NODE_PATH=<ort>/node_modules:<sharp>/node_modules \
//     node ort_peer.js MODEL.onnx IMAGE_DIR WIDTH HEIGHT BATCH THREADS OUT.f32 [IDS.txt]
// Images: the files of IMAGE_DIR (.png .jpg .jpeg .tif .tiff), sorted by name, squashed to
// WIDTH x HEIGHT when they are another size. Prints one JSON line of counts and seconds.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const sharp = require('sharp');

async function decode(file, width, height) {
  let img = sharp(file).removeAlpha().toColourspace('srgb');
  const meta = await sharp(file).metadata();
  if (meta.width !== width || meta.height !== height) img = img.resize(width, height, { fit: 'fill' });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(file + ': ' + info.channels + ' channels after decoding');
  return data;
}

async function decodeBatch(files, width, height) {
  const pixels = await Promise.all(files.map((f) => decode(f, width, height)));
  const batch = new Uint8Array(files.length * width * height * 3);
  pixels.forEach((p, i) => batch.set(p, i * width * height * 3));
  return new ort.Tensor('uint8', batch, [files.length, height, width, 3]);
}

async function main() {
  const t0 = process.hrtime.bigint();
  const [model, dir, w, h, b, t, out, idsOut] = process.argv.slice(2);
  if (!out) throw new Error('usage: ort_peer.js MODEL IMAGE_DIR WIDTH HEIGHT BATCH THREADS OUT [IDS]');
  const width = Number(w), height = Number(h), batchSize = Number(b), threads = Number(t);
  sharp.concurrency(threads);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    intraOpNumThreads: threads, interOpNumThreads: 1 });
  const ready = Number(process.hrtime.bigint() - t0) / 1e9;
  const files = fs.readdirSync(dir).filter((f) => /\.(png|jpe?g|tiff?)$/i.test(f)).sort()
    .map((f) => path.join(dir, f));
  const fd = fs.openSync(out, 'w');
  let next = decodeBatch(files.slice(0, batchSize), width, height);
  for (let at = 0; at < files.length; at += batchSize) {
    const input = await next;
    if (at + batchSize < files.length)
      next = decodeBatch(files.slice(at + batchSize, at + 2 * batchSize), width, height);
    const result = await session.run({ [session.inputNames[0]]: input });
    for (const name of session.outputNames) {
      const d = result[name].data;
      fs.writeSync(fd, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
  }
  fs.closeSync(fd);
  if (idsOut) fs.writeFileSync(idsOut, files.map((f) => path.parse(f).name).join('\n') + '\n');
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ images: files.length, ready_s: ready, total_s: total }) + '\n');
}

main().catch((e) => {
  process.stderr.write('ort_peer.js: ' + e.message + '\n');
  process.exit(1);
});
