#!/usr/bin/python3
"""gen_metrics_fixture.py -- reference values for tests/test_metrics.c.

Re-states the regression metrics of the two reference repositories' utils/metricsTop.py
(thuiar/Self-MM and thuiar/MMSA) with NumPy and scikit-learn (Debian's python3-sklearn
1.2.1, python3-numpy 1.24) on float32 arrays, as the reference receives them from torch:

- Self-MM passes f1_score(pred, truth): sklearn weights each class by its count in the
  predictions. MMSA passes f1_score(truth, pred).
- MMSA rounds the MOSI/MOSEI values to 4 decimals when it returns them; the fixture
  keeps full precision for both (libselfmm reports full precision; rounding is for
  display).
- If no truth is non-zero the reference crashes (a float index array); the fixture
  holds NaN for Non0_acc_2 / Non0_F1_score there, as libselfmm reports.

Writes tests/fixtures/train/metrics.smfx: for case i, "i.kind" (0 sims, 1 mosi),
"i.pred", "i.truth" (float32), "i.selfmm" and "i.mmsa" (float64 metric values in the
reference's print order). Run: /usr/bin/python3 tools/gen_metrics_fixture.py
"""
import os
import sys
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

SIMS_NAMES = ["Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"]
MOSI_NAMES = ["Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5",
              "Mult_acc_7", "MAE", "Corr"]


def multiclass_acc(p, t):
    return np.sum(np.round(p) == np.round(t)) / float(len(t))


def weighted_f1(pred, truth, mmsa):
    return f1_score(truth, pred, average="weighted") if mmsa else f1_score(pred, truth, average="weighted")


def binned(x, edges):
    out = x.copy()
    for i in range(len(edges) - 1):
        out[np.logical_and(x > edges[i], x <= edges[i + 1])] = i
    return out


def sims(pred, truth, mmsa):
    p = np.clip(pred, a_min=-1., a_max=1.)
    t = np.clip(truth, a_min=-1., a_max=1.)
    e2, e3, e5 = [-1.01, 0.0, 1.01], [-1.01, -0.1, 0.1, 1.01], [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01]
    p2, t2 = binned(p, e2), binned(t, e2)
    p3, t3 = binned(p, e3), binned(t, e3)
    p5, t5 = binned(p, e5), binned(t, e5)
    mae = np.mean(np.absolute(p - t))
    corr = np.corrcoef(p, t)[0][1]
    return [multiclass_acc(p2, t2), multiclass_acc(p3, t3), multiclass_acc(p5, t5),
            weighted_f1(p2, t2, mmsa), mae, corr]


def mosi(pred, truth, mmsa):
    p7, t7 = np.clip(pred, a_min=-3., a_max=3.), np.clip(truth, a_min=-3., a_max=3.)
    p5, t5 = np.clip(pred, a_min=-2., a_max=2.), np.clip(truth, a_min=-2., a_max=2.)
    mae = np.mean(np.absolute(pred - truth))
    corr = np.corrcoef(pred, truth)[0][1]
    nz = np.array([i for i, e in enumerate(truth) if e != 0], dtype=np.int64)
    if len(nz):
        nzt, nzp = truth[nz] > 0, pred[nz] > 0
        non0_acc = accuracy_score(nzp, nzt)
        non0_f1 = weighted_f1(nzp, nzt, mmsa)
    else:
        non0_acc = non0_f1 = float("nan")
    bt, bp = truth >= 0, pred >= 0
    return [accuracy_score(bp, bt), weighted_f1(bp, bt, mmsa), non0_acc, non0_f1,
            multiclass_acc(p5, t5), multiclass_acc(p7, t7), mae, corr]


def f32(a):
    return np.asarray(a, dtype=np.float32)


def cases(rng):
    c = []
    # SIMS: random, then the bin edges exactly (as float32), clipping, ties
    for n in (1, 2, 7, 100, 1000, 9000):
        c.append((0, f32(rng.uniform(-1.3, 1.3, n)), f32(rng.uniform(-1.0, 1.0, n))))
    edges = f32([-1.2, -1.0, -0.7, -0.1, 0.0, 0.1, 0.7, 1.0, 1.2, -0.0,
                 np.nextafter(np.float32(0.1), np.float32(1)), np.nextafter(np.float32(-0.1), np.float32(-1)),
                 np.nextafter(np.float32(0.7), np.float32(1)), np.nextafter(np.float32(0.0), np.float32(1)),
                 0.5, -0.5, 0.3, -0.8])
    c.append((0, edges, edges[::-1].copy()))
    c.append((0, edges[rng.permutation(len(edges))], edges))
    c.append((0, f32(np.full(50, 0.3)), f32(rng.uniform(-1, 1, 50))))       # constant pred: Corr NaN
    c.append((0, f32(np.full(40, 2.0)), f32(rng.uniform(-1, 1, 40))))       # clipped to constant 1
    c.append((0, f32(rng.uniform(0.2, 1, 30)), f32(rng.uniform(-1, 1, 30))))  # one predicted class
    c.append((0, f32(rng.uniform(-1, 1, 30)), f32(rng.uniform(0.2, 1, 30))))  # one true class
    # MOSI/MOSEI: random in [-3.5, 3.5], exact zeros, .5 ties, sizes past NumPy's 8192 buffer
    for n in (1, 3, 8, 129, 2000, 9000):
        t = f32(np.round(rng.uniform(-3.2, 3.2, n) * 3) / 3)
        t[rng.random(n) < 0.1] = 0.0
        c.append((1, f32(rng.normal(0, 1.6, n)), t))
    ties = f32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 0.0, -0.0, 2.0, -2.0, 0.49999997, 1.4999999])
    c.append((1, ties, ties[::-1].copy()))
    c.append((1, ties[rng.permutation(len(ties))], ties))
    c.append((1, f32(rng.normal(0, 1, 20)), f32(np.zeros(20))))            # all truths 0: Non0 NaN
    c.append((1, f32(np.full(25, -0.4)), f32(rng.normal(0, 1.5, 25))))     # constant pred
    c.append((1, f32(rng.uniform(0.1, 3, 25)), f32(rng.normal(0, 1.5, 25))))  # all predicted >= 0
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "tests", "fixtures", "train", "metrics.smfx")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    rng = np.random.default_rng(20260101)
    tensors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant inputs, ill-defined F1: the cases we want
        for i, (kind, pred, truth) in enumerate(cases(rng)):
            fn = sims if kind == 0 else mosi
            tensors[f"{i}.kind"] = np.array([kind], dtype=np.int32)
            tensors[f"{i}.pred"] = pred
            tensors[f"{i}.truth"] = truth
            tensors[f"{i}.selfmm"] = np.array(fn(pred, truth, False), dtype=np.float64)
            tensors[f"{i}.mmsa"] = np.array(fn(pred, truth, True), dtype=np.float64)
    fixture_io.write(out, tensors)
    print(f"wrote {out}: {len(tensors) // 5} cases")


if __name__ == "__main__":
    main()
