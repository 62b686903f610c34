#!/usr/bin/env python3
"""Benchmark data: bdgp-mini's 193 real images replicated K times (symlinks with distinct names,
genes renamed GENE_rK so that grouped splits still work), all put in one stage range.

usage: bench/replicate_manifest.py OUT_DIR [K=5] [STAGE=13-16]   (K=5: 965 images)
"""
import csv, os, sys

src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "bdgp-mini")
out_dir = sys.argv[1]
copies = int(sys.argv[2]) if len(sys.argv) > 2 else 5
stage = sys.argv[3] if len(sys.argv) > 3 else "13-16"
os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
rows = list(csv.DictReader(open(os.path.join(src, "images.csv"))))
with open(os.path.join(out_dir, "images.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["image", "gene", "stage_range", "terms"])
    for k in range(copies):
        for r in rows:
            name = f"r{k}_" + os.path.basename(r["image"])
            dst = os.path.join(out_dir, "images", name)
            target = os.path.join(src, r["image"])
            if not os.path.exists(target):  # the manifest's images/ fallback
                target = os.path.join(src, "images", r["image"])
            if os.path.lexists(dst):
                os.remove(dst)
            os.symlink(os.path.abspath(target), dst)
            w.writerow(["images/" + name, f"{r['gene']}_r{k}", stage, r["terms"]])
print(f"{copies * len(rows)} images -> {out_dir}/images.csv")
