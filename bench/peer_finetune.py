#!/usr/bin/env python3
"""Peer of `ishannot finetune` for the speed comparison (bench/bench_finetune.sh): the same model
trained by a plain PyTorch loop on Debian's python3-torch, eager mode.

Model: Keras ResNet50 (ImageNet weights from the TF.js files, BatchNorm as torch.nn.BatchNorm2d in
eval mode: frozen statistics, as fine-tuning uses them) through res5c, frozen through res3d
(requires_grad False), then global average pool -> Linear(2048, 512) -> ReLU -> Dropout(0.5) ->
Linear(512, k); loss = per-image sum over the k terms of the binary cross-entropy, mean over the
batch; SGD momentum 0.9, weight decay 5e-4, lr 0.01 for the head and 0.001 for res4a..res5c
(ishannot finetune's defaults). Images: decoded once with OpenCV, squashed to the input size
(INTER_AREA), caffe preprocessing; labels random (speed does not depend on them). No augmentation
and no validation (the cheapest plain loop). The frozen trunk runs every batch, as a plain loop
does (a user who caches it writes what ishannot does).

usage: peer_finetune.py --weights model.json --manifest images.csv --size 224x224 --batch 16
                        --threads T --terms 10 --epochs 1
prints one JSON line: seconds of each epoch (wall), and the image loading time.
"""
import argparse, json, os, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_features import CAFFE_MEAN, read_manifest_paths, read_tfjs  # noqa: E402


class ConvBN(nn.Module):
    def __init__(self, t, conv, bn, stride):
        super().__init__()
        k = t[conv + "/kernel"].permute(3, 2, 0, 1).contiguous()
        self.conv = nn.Conv2d(k.shape[1], k.shape[0], k.shape[2], stride=stride,
                              padding=k.shape[2] // 2, bias=True)
        self.bn = nn.BatchNorm2d(k.shape[0], eps=1e-3)
        with torch.no_grad():
            self.conv.weight.copy_(k)
            self.conv.bias.copy_(t[conv + "/bias"])
            self.bn.weight.copy_(t[bn + "/gamma"])
            self.bn.bias.copy_(t[bn + "/beta"])
            self.bn.running_mean.copy_(t[bn + "/moving_mean"])
            self.bn.running_var.copy_(t[bn + "/moving_variance"])

    def forward(self, x):
        return self.bn(self.conv(x))


class Bottleneck(nn.Module):
    def __init__(self, t, s, stride, projection):
        super().__init__()
        self.a = ConvBN(t, f"res{s}_branch2a", f"bn{s}_branch2a", stride)
        self.b = ConvBN(t, f"res{s}_branch2b", f"bn{s}_branch2b", 1)
        self.c = ConvBN(t, f"res{s}_branch2c", f"bn{s}_branch2c", 1)
        self.proj = ConvBN(t, f"res{s}_branch1", f"bn{s}_branch1", stride) if projection else None

    def forward(self, x):
        y = self.c(F.relu(self.b(F.relu(self.a(x)))))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class MultiTaskResNet50(nn.Module):
    def __init__(self, t, k, hidden=512, dropout=0.5):
        super().__init__()
        self.conv1 = ConvBN(t, "conv1", "bn_conv1", 2)
        blocks = []
        for stage, n, stride in (("2", 3, 1), ("3", 4, 2), ("4", 6, 2), ("5", 3, 2)):
            for b in range(n):
                blocks.append((f"res{stage}{'abcdef'[b]}",
                               Bottleneck(t, stage + "abcdef"[b], stride if b == 0 else 1, b == 0)))
        self.blocks = nn.ModuleDict(blocks)
        self.hidden = nn.Linear(2048, hidden)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, k)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 3, 2, 1)
        for block in self.blocks.values():
            x = block(x)
        x = x.mean((2, 3))
        return self.output(self.dropout(F.relu(self.hidden(x))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True); ap.add_argument("--manifest", required=True)
    ap.add_argument("--size", default="224x224"); ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0); ap.add_argument("--terms", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1); ap.add_argument("--freeze-through", default="res3d")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    import cv2
    w, h = (int(v) for v in a.size.split("x"))
    t0 = time.perf_counter()
    paths = read_manifest_paths(a.manifest)
    images = [cv2.resize(cv2.imread(p, cv2.IMREAD_COLOR), (w, h), interpolation=cv2.INTER_AREA)
              for p in paths]
    x_all = np.stack(images).astype(np.float32) - np.array(CAFFE_MEAN, dtype=np.float32)
    x_all = torch.from_numpy(np.ascontiguousarray(x_all.transpose(0, 3, 1, 2)))
    g = torch.Generator().manual_seed(1)
    y_all = (torch.rand(len(paths), a.terms, generator=g) < 0.3).float()
    load_s = time.perf_counter() - t0

    torch.manual_seed(1234)
    model = MultiTaskResNet50(read_tfjs(a.weights), a.terms)
    frozen = True
    trainable = []
    for name, module in [("conv1", model.conv1)] + list(model.blocks.items()):
        for p in module.parameters():
            p.requires_grad_(not frozen)
            if not frozen:
                trainable.append(p)
        if name == a.freeze_through:
            frozen = False
    head = list(model.hidden.parameters()) + list(model.output.parameters())
    opt = torch.optim.SGD([{"params": head, "lr": 0.01}, {"params": trainable, "lr": 0.001}],
                          lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()
    for m in model.modules():  # frozen BatchNorm statistics, as ishannot folds them
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    n = len(paths)
    epochs = []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=g)
        for begin in range(0, n, a.batch):
            idx = order[begin:begin + a.batch]
            logits = model(x_all[idx])
            loss = F.binary_cross_entropy_with_logits(logits, y_all[idx], reduction="none").sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        epochs.append(time.perf_counter() - t0)
    print(json.dumps({"images": n, "size": a.size, "batch": a.batch, "threads": torch.get_num_threads(),
                      "load_s": load_s, "epoch_s": epochs}))


if __name__ == "__main__":
    main()
