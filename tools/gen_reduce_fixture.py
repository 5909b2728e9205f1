#!/usr/bin/python3
"""gen_reduce_fixture.py -- reference values for tests/test_reduce.c.

The sums whose order lib/train/reduce.c copies, computed by the libraries themselves
(Debian's torch 1.13 on one thread, NumPy 1.24) on random float32 data:
"red.colsum.<i>.x/.rows/.out" torch.sum(x[rows], dim=0) (widths hitting the 32-column
cascade, the 4-way row sum and the 1-column inner reduction; row counts past 256, where
the cascade carries a level); "red.norm.<i>.x/.out" torch.norm(x, dim=-1) for widths
1..17, 37, 64, 128; "red.npsum.<i>.x" with "red.npsum.<i>.sum/.mean" np.sum / np.mean
(sizes around the 8-, 128- and 8192-element boundaries).

Writes tests/fixtures/train/reduce.smfx. Run: /usr/bin/python3 tools/gen_reduce_fixture.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402


def reductions(out, rng):
    cases = [(1, 3), (5, 5), (16, 16), (17, 1), (40, 33), (300, 40), (300, 16), (300, 1),
             (7, 1), (257, 7), (260, 64), (70, 128)]
    for i, (rows_total, d) in enumerate(cases):
        x = rng.standard_normal((rows_total, d)).astype(np.float32)
        k = max(1, int(rows_total * 0.7))
        rows = np.sort(rng.choice(rows_total, size=k, replace=False)).astype(np.int32)
        out[f"red.colsum.{i}.x"] = x
        out[f"red.colsum.{i}.rows"] = rows
        out[f"red.colsum.{i}.out"] = torch.sum(torch.tensor(x)[torch.tensor(rows, dtype=torch.long)], dim=0)
    for i, d in enumerate(list(range(1, 18)) + [37, 64, 128]):
        x = (rng.standard_normal((40, d)) * 10 ** rng.uniform(-2, 2, (40, 1))).astype(np.float32)
        out[f"red.norm.{i}.x"] = x
        out[f"red.norm.{i}.out"] = torch.norm(torch.tensor(x), dim=-1)
    for i, n in enumerate([1, 7, 8, 9, 127, 128, 129, 1000, 8193, 16326]):
        x = (np.abs(rng.standard_normal(n)) * 10 ** rng.uniform(-2, 1)).astype(np.float32)
        out[f"red.npsum.{i}.x"] = x
        out[f"red.npsum.{i}.sum"] = np.array([np.sum(x)], dtype=np.float32)
        out[f"red.npsum.{i}.mean"] = np.array([np.mean(x)], dtype=np.float32)



def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "fixtures", "train", "reduce.smfx")
    out = {}
    reductions(out, np.random.default_rng(777))
    fixture_io.write(path, out)
    print(f"wrote {path}: {len(out)} arrays")


if __name__ == "__main__":
    main()
