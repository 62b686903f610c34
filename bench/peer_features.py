#!/usr/bin/env python3
"""Independent peer of ishannot's backbones, written against Debian's python3-torch (eager mode).

It shares no code with the C++ side: it parses the weight files itself and builds the networks
from torch.nn / torch.nn.functional. Used by
  - tests (tests/nets/test_peer_*.cpp): features of the same input must agree to 1e-4 relative,
  - bench/bench_extract.sh: throughput of the same network, same weights, same threads.

Commands:
  resnet50 --weights model.json --input in.u8 --n N --size HxW --layers res3d,res4f --out DIR
      input: N raw BGR uint8 images (N*H*W*3 bytes, HWC), caffe-preprocessed here, or a
      preprocessed N x 3 x H x W float32 file named *.f32; writes DIR/<layer>.f32 (N x C x H x W)
  vgg16-files --out DIR --seed S
      writes random VGG16 conv weights (no top) as torchvision state_dict (vgg16.pth), Keras HDF5
      (vgg16_notop.h5) and TF.js (tfjs/model.json + shards)
  vgg16 --weights DIR/vgg16.pth --input in.u8 --n N --size HxW --layers 17,21 --out DIR
  bench ARCH ... --repeat R --batch B   prints images/s of the forward pass
  extract --weights model.json --manifest images.csv --layers res4f --batch B --out OUT.h5
      end to end, as a user of plain PyTorch would write it: read the weights, decode each image
      with OpenCV (BGR, native size), forward in eager mode under torch.no_grad(), write every
      tap flattened (C, H, W order) as float32 rows of OUT.h5 (h5py), plus /ids; prints seconds
      (bench/bench_extract_e2e.sh runs it beside `ishannot extract`)
"""
import argparse, json, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

CAFFE_MEAN = [103.939, 116.779, 123.68]  # B, G, R


def caffe_input(raw, n, h, w):
    x = np.frombuffer(raw, dtype=np.uint8).reshape(n, h, w, 3).astype(np.float32)
    x = x - np.array(CAFFE_MEAN, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


# ---------------------------------------------------------------- TF.js reader (own parser)
def read_tfjs(model_json):
    spec = json.load(open(model_json))
    folder = os.path.dirname(model_json)
    tensors = {}
    for group in spec["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for wt in group["weights"]:
            count = int(np.prod(wt["shape"])) if wt["shape"] else 1
            arr = np.frombuffer(data, dtype="<f4", count=count, offset=off).reshape(wt["shape"])
            off += 4 * count
            name = wt["name"].split(":")[0]
            tensors["/".join(name.split("/")[-2:])] = torch.from_numpy(arr.copy())
    return tensors


# ---------------------------------------------------------------- ResNet50 (Keras layout)
class KerasResNet50:
    def __init__(self, t):
        self.t = t

    def conv_bn(self, x, conv, bn, stride, relu):
        k = self.t[conv + "/kernel"].permute(3, 2, 0, 1)
        pad = k.shape[-1] // 2
        x = F.conv2d(x, k, self.t[conv + "/bias"], stride=stride, padding=pad)
        x = F.batch_norm(x, self.t[bn + "/moving_mean"], self.t[bn + "/moving_variance"],
                         self.t[bn + "/gamma"], self.t[bn + "/beta"], False, 0.0, 1e-3)
        return F.relu(x) if relu else x

    def forward(self, x, taps):
        out = {}
        x = self.conv_bn(x, "conv1", "bn_conv1", 2, True)
        x = F.max_pool2d(x, 3, 2, 1)
        last = max(taps_order.index(t) for t in taps)
        for i, name in enumerate(taps_order[: last + 1]):
            stage, block = name[3], name[4]
            stride = 2 if block == "a" and stage != "2" else 1
            s = stage + block
            y = self.conv_bn(x, f"res{s}_branch2a", f"bn{s}_branch2a", stride, True)
            y = self.conv_bn(y, f"res{s}_branch2b", f"bn{s}_branch2b", 1, True)
            y = self.conv_bn(y, f"res{s}_branch2c", f"bn{s}_branch2c", 1, False)
            sc = self.conv_bn(x, f"res{s}_branch1", f"bn{s}_branch1", stride, False) if block == "a" else x
            x = F.relu(y + sc)
            if name in taps:
                out[name] = x
        return out


taps_order = [f"res{s}{b}" for s, n in (("2", 3), ("3", 4), ("4", 6), ("5", 3)) for b in "abcdef"[:n]]


# ---------------------------------------------------------------- VGG16 (torchvision layout)
VGG_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_forward(sd, x, taps):
    """Paper numbering: every conv, ReLU and max-pool counts, from 1."""
    out, number, idx = {}, 0, 0
    last = max(taps)
    for v in VGG_CFG:
        if v == "M":
            x = F.max_pool2d(x, 2, 2); number += 1; idx += 1
            if number in taps: out[number] = x
        else:
            x = F.conv2d(x, sd[f"features.{idx}.weight"], sd[f"features.{idx}.bias"], padding=1)
            number += 1; idx += 1
            if number in taps: out[number] = x
            x = F.relu(x); number += 1; idx += 1
            if number in taps: out[number] = x
        if number >= last:
            break
    return out


def write_vgg16_files(out, seed):
    g = torch.Generator().manual_seed(seed)
    sd, keras = {}, []
    idx, block, conv, cin = 0, 1, 1, 3
    for v in VGG_CFG:
        if v == "M":
            idx += 1; block += 1; conv = 1
            continue
        w = torch.randn(v, cin, 3, 3, generator=g) * (2.0 / (9 * cin)) ** 0.5
        b = torch.randn(v, generator=g) * 0.1
        sd[f"features.{idx}.weight"], sd[f"features.{idx}.bias"] = w, b
        keras.append((f"block{block}_conv{conv}", w.permute(2, 3, 1, 0).contiguous().numpy(), b.numpy()))
        idx += 2; conv += 1; cin = v
    os.makedirs(out, exist_ok=True)
    torch.save(sd, os.path.join(out, "vgg16.pth"))
    try:
        import h5py
        with h5py.File(os.path.join(out, "vgg16_notop.h5"), "w") as f:
            names = ["input_1"] + [n for n, _, _ in keras]
            f.attrs["layer_names"] = np.array([n.encode() for n in names])
            f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
            for n, k, b in keras:
                grp = f.create_group(n)
                grp.attrs["weight_names"] = np.array([f"{n}/kernel:0".encode(), f"{n}/bias:0".encode()])
                grp.create_dataset(f"{n}/kernel:0", data=k)
                grp.create_dataset(f"{n}/bias:0", data=b)
    except ImportError:
        print("peer: h5py missing, no .h5 written", file=sys.stderr)
    tf = os.path.join(out, "tfjs"); os.makedirs(tf, exist_ok=True)
    blob, weights = b"", []
    for n, k, b in keras:
        for suffix, arr in (("kernel", k), ("bias", b)):
            weights.append({"name": f"{n}/{suffix}", "shape": list(arr.shape), "dtype": "float32"})
            blob += arr.astype("<f4").tobytes()
    shard = 4 * 1024 * 1024
    paths = []
    for i in range(0, len(blob), shard):
        p = f"group1-shard{i // shard + 1}of{(len(blob) + shard - 1) // shard}.bin"
        open(os.path.join(tf, p), "wb").write(blob[i:i + shard]); paths.append(p)
    json.dump({"format": "layers-model", "modelTopology": {},
               "weightsManifest": [{"paths": paths, "weights": weights}]},
              open(os.path.join(tf, "model.json"), "w"))


def read_manifest_paths(manifest):
    import csv
    base = os.path.dirname(os.path.abspath(manifest))
    paths = []
    for row in csv.DictReader(open(manifest)):
        p = os.path.join(base, row["image"])
        if not os.path.exists(p):  # the manifest's images/ fallback
            p = os.path.join(base, "images", row["image"])
        paths.append(p)
    return paths


def extract(a):
    import cv2
    import h5py
    t0 = time.perf_counter()
    net = KerasResNet50(read_tfjs(a.weights))
    layers = a.layers.split(",")
    paths = read_manifest_paths(a.manifest)
    n = len(paths)
    with h5py.File(a.out, "w") as f, torch.no_grad():
        datasets = {}
        for begin in range(0, n, a.batch):
            batch = paths[begin:begin + a.batch]
            images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in batch]
            x = np.stack(images).astype(np.float32) - np.array(CAFFE_MEAN, dtype=np.float32)
            x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
            out = net.forward(x, layers)
            for name in layers:
                rows = out[name].reshape(len(batch), -1).numpy()
                if name not in datasets:
                    datasets[name] = f.create_dataset("features/" + name, (n, rows.shape[1]), "f4")
                datasets[name][begin:begin + len(batch)] = rows
        f.create_dataset("ids", data=[os.path.splitext(os.path.basename(p))[0] for p in paths],
                         dtype=h5py.string_dtype())
    print(json.dumps({"images": n, "seconds": time.perf_counter() - t0,
                      "threads": torch.get_num_threads()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("--weights"); ap.add_argument("--input"); ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--size", default="224x224"); ap.add_argument("--layers"); ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=1); ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--repeat", type=int, default=3); ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0); ap.add_argument("--manifest")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.cmd == "vgg16-files":
        write_vgg16_files(a.out, a.seed); return
    if a.cmd == "extract":
        extract(a); return
    h, w = (int(v) for v in a.size.split("x"))
    arch = a.arch if a.cmd == "bench" else a.cmd
    if arch == "resnet50":
        net = KerasResNet50(read_tfjs(a.weights))
        layers = a.layers.split(",")
        run = lambda x: net.forward(x, layers)
    else:
        sd = torch.load(a.weights)
        layers = [int(v) for v in a.layers.split(",")]
        run = lambda x: vgg16_forward(sd, x, layers)
    with torch.no_grad():
        if a.cmd == "bench":
            x = torch.randn(a.batch, 3, h, w) * 50
            run(x)  # warm-up
            t0 = time.perf_counter()
            for _ in range(a.repeat):
                run(x)
            dt = time.perf_counter() - t0
            print(json.dumps({"arch": arch, "images_per_s": a.batch * a.repeat / dt, "threads": torch.get_num_threads()}))
            return
        if a.input.endswith(".f32"):  # already preprocessed, N x 3 x H x W float32
            x = torch.from_numpy(np.fromfile(a.input, dtype="<f4").reshape(a.n, 3, h, w))
        else:
            x = caffe_input(open(a.input, "rb").read(), a.n, h, w)
        out = run(x)
        os.makedirs(a.out, exist_ok=True)
        for k, v in out.items():
            v.contiguous().numpy().astype("<f4").tofile(os.path.join(a.out, f"{k}.f32"))


if __name__ == "__main__":
    main()
