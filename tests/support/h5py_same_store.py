#!/usr/bin/env python3
"""Two feature stores hold the same data, read by h5py (the independent reader): same ids in the
same order, same layers with the same dtype, shape, bytes and per-layer attributes, same root
attributes except created_by and merged_from; the second (a merged store) carries no shard
attribute. Used by the merge tests (tests/features/test_merge.cpp, tests/apps/nets/
test_extract_shards.cpp).
usage: h5py_same_store.py A.h5 MERGED.h5 [--dtype D] [--created-by TEXT | --created-by-prefix TEXT]
                          [--merged-shards N]"""
import argparse

import h5py

p = argparse.ArgumentParser()
p.add_argument('a')
p.add_argument('b')
p.add_argument('--dtype')
p.add_argument('--created-by')
p.add_argument('--created-by-prefix')
p.add_argument('--merged-shards', type=int)
args = p.parse_args()

a, b = h5py.File(args.a, 'r'), h5py.File(args.b, 'r')
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
assert [text(i) for i in a['ids'][:]] == [text(i) for i in b['ids'][:]], 'ids differ'
assert sorted(a['features']) == sorted(b['features']), 'layers differ'
for name in a['features']:
    x, y = a['features'][name], b['features'][name]
    assert x.dtype == y.dtype, (name, x.dtype, y.dtype)
    assert args.dtype is None or str(x.dtype) == args.dtype, (name, x.dtype, args.dtype)
    assert x.shape == y.shape, (name, x.shape, y.shape)
    assert x[()].tobytes() == y[()].tobytes(), name + ': values differ'
    assert {k: text(v) for k, v in x.attrs.items()} == {k: text(v) for k, v in y.attrs.items()}
skip = {'created_by', 'merged_from'}
attrs = lambda f: {k: text(v) for k, v in f.attrs.items() if k not in skip}
assert attrs(a) == attrs(b), (attrs(a), attrs(b))
assert not any(k.startswith('shard') for k in b.attrs), list(b.attrs)
created_by = text(b.attrs['created_by'])
assert args.created_by is None or created_by == args.created_by, created_by
assert args.created_by_prefix is None or created_by.startswith(args.created_by_prefix), created_by
if args.merged_shards is not None:
    merged_from = text(b.attrs['merged_from'])
    assert merged_from.count('--shard') == args.merged_shards, merged_from
print('identical', a['ids'].shape[0], 'rows')
