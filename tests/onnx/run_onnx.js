// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node, fetched by scripts/setup.sh) on a
// NumPy .npy input and prints every output as JSON: {"name": {"dims": [...], "data": [...]}}.
// Usage: NODE_PATH=<cache>/onnxruntime-<v>/node_modules node run_onnx.js MODEL.onnx INPUT.npy
// An independent runtime for ishannot's exported graphs (tests/onnx, tests/apps/nets).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not an .npy file');
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const body = buf.subarray(10 + headerLen);
  if (descr === '|u1') return { type: 'uint8', shape, data: new Uint8Array(body) };
  if (descr === '<f4') {
    const copy = new Float32Array(body.length / 4);
    for (let i = 0; i < copy.length; ++i) copy[i] = body.readFloatLE(4 * i);
    return { type: 'float32', shape, data: copy };
  }
  throw new Error(path + ': dtype ' + descr + ' not supported');
}

async function main() {
  const [model, input] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const x = readNpy(input);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor(x.type, x.data, x.shape);
  const out = await session.run(feeds);
  const result = {};
  for (const name of session.outputNames)
    result[name] = { dims: out[name].dims, data: Array.from(out[name].data) };
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write('run_onnx.js: ' + e.message + '\n');
  process.exit(1);
});
