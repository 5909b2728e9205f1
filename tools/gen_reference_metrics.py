#!/usr/bin/python3
"""gen_reference_metrics.py -- the reference's own metrics, rounding and seeds summary
for tests/test_metrics.c, computed by running the reference code.

  /usr/bin/python3 tools/gen_reference_metrics.py HARNESS --self-mm-git DIR --mmsa-git DIR

HARNESS is ../shared/reference/harness: utils/metricsTop.py of thuiar/Self-MM at HEAD is
imported the way its run_thuiar.py does (its sys.path set-up, then
`from utils.metricsTop import MetricsTop`). The two git clones give the other code that
is run here, unchanged: Self-MM's metricsTop.py before commit c4525c1 (2021-04-28, the
f1_score(pred, truth) order) and its run.py (run_normal, the seeds summary); MMSA's
src/MMSA/utils/metricsTop.py (rounds SIMS too, MAE as float64).

Inputs are float32 tensors, as the trainer hands them over. For each metricsTop
variant the fixture holds the returned values (float(v), after the reference's own
round(x, 4)) and the unrounded ones: the same file run with `round` bound to the
identity in its module namespace (nothing else changes).

Writes tests/fixtures/train/metrics_ref.smfx:
- case i: "m<i>.kind" (0 sims, 1 mosi, 2 mosei), "m<i>.pred", "m<i>.truth" (float32);
  "m<i>.<v>.value", "m<i>.<v>.raw" (float64, the reference's order) for
  v = selfmm (HEAD), selfmm_old (before c4525c1), mmsa.
- rounding: "round.x" (float64), "round.d" (int), "round.py" (Python's round(float)),
  "round.np64" (round(np.float64)), "round.x32" (float32), "round.np32"
  (round(np.float32), float32).
- summary case j: "s<j>.kind", "s<j>.variant" (0 selfmm, 2 mmsa), "s<j>.seeds" (n);
  per seed k "s<j>.<k>.pred", "s<j>.<k>.truth" (float32), "s<j>.loss" (n float64: the
  eval Loss; MMSA's do_test rounds it with round(x, 4), done here as there);
  "s<j>.mean", "s<j>.std" (float64, the criterions in order: metrics then Loss) as
  run_normal wrote them to its CSV.
Run: /usr/bin/python3 tools/gen_reference_metrics.py ../shared/reference/harness \\
       --self-mm-git /path/to/thuiar-Self-MM.git --mmsa-git /path/to/MMSA.git
"""
import argparse
import ast
import csv
import os
import subprocess
import sys
import tempfile
import types
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

SIMS = ["Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"]
MOSI = ["Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5", "Mult_acc_7", "MAE", "Corr"]
KINDS = ["SIMS", "MOSI", "MOSEI"]


def git_show(repo, spec):
    return subprocess.run(["git", "-C", repo, "show", spec], check=True, capture_output=True, text=True).stdout


def module_from_source(name, source, no_round=False):
    """Run a reference source file as a module; no_round binds round to the identity."""
    mod = types.ModuleType(name)
    if no_round:
        mod.round = lambda x, ndigits=None: x
    exec(compile(source, name, "exec"), mod.__dict__)
    return mod


def load_variants(harness, self_mm_git, mmsa_git):
    sys.path.insert(0, os.path.abspath(harness))
    import run_thuiar  # noqa: F401  (its sys.path: stubs, harness, the reference)
    from utils.metricsTop import MetricsTop
    with open(os.path.join(run_thuiar.REF, "utils", "metricsTop.py")) as f:
        head = f.read()
    old = git_show(self_mm_git, "c4525c1^:utils/metricsTop.py")
    mmsa = git_show(mmsa_git, "HEAD:src/MMSA/utils/metricsTop.py")
    assert "f1_score(test_preds_a2, test_truth_a2" in old and "f1_score(test_truth_a2, test_preds_a2" in head
    assert ".astype(np.float64)" in mmsa
    return {
        "selfmm": (MetricsTop, module_from_source("head_raw", head, True).MetricsTop),
        "selfmm_old": (module_from_source("old", old).MetricsTop, module_from_source("old_raw", old, True).MetricsTop),
        "mmsa": (module_from_source("mmsa", mmsa).MetricsTop, module_from_source("mmsa_raw", mmsa, True).MetricsTop),
    }


def evaluate(cls, kind, pred, truth):
    """metricsTop's dict for float32 inputs, as the trainer calls it."""
    fn = cls("regression").getMetics(KINDS[kind])
    return fn(torch.from_numpy(pred.copy()), torch.from_numpy(truth.copy()))


def values(res, kind):
    names = SIMS if kind == 0 else MOSI
    assert list(res.keys()) == names, list(res.keys())
    return np.array([float(res[k]) for k in names], dtype=np.float64)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def nudged(v, steps):
    """float32 v moved by steps ulps."""
    x = np.float32(v)
    for _ in range(abs(steps)):
        x = np.nextafter(x, np.float32(np.inf if steps > 0 else -np.inf))
    return x


def metric_cases(rng):
    c = []
    sims_edges = [-1.5, -1.01, -1.0, -0.7, -0.1, 0.0, -0.0, 0.1, 0.7, 1.0, 1.01, 1.5, 3.0, -3.0]
    mosi_edges = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0, 1.0, -1.0]
    for kind in (0, 1, 2):
        # random predictions, several sizes (past NumPy's 8192-element buffer once)
        for n in (1, 2, 7, 8, 9, 33, 128, 300) + ((9000,) if kind < 2 else ()):
            if kind == 0:
                pred, truth = rng.uniform(-1.3, 1.3, n), np.round(rng.uniform(-1, 1, n) * 5) / 5
            else:
                pred = rng.normal(0, 1.6, n)
                truth = np.round(rng.uniform(-3.2, 3.2, n) * 3) / 3
                truth[rng.random(n) < 0.1] = 0.0
                if n == 1:
                    truth[0] = 1.0  # the reference crashes on an empty non-zero subset
            c.append((kind, f32(pred), f32(truth)))
        # values exactly on the bin edges and their float32 neighbours, zeros, clipping
        base = sims_edges if kind == 0 else mosi_edges
        vals = f32([nudged(v, s) for v in base for s in (-1, 0, 1)] + [0.0, -0.0])
        c.append((kind, vals, vals[::-1].copy()))
        c.append((kind, vals[rng.permutation(len(vals))], vals))
        c.append((kind, vals, vals.copy()))
        c.append((kind, f32(rng.choice(vals, 200)), f32(rng.choice(vals, 200))))
        # zeros in truth and predictions
        t = f32(rng.choice([0.0, 0.0, -0.0, 0.6, -0.6, 1.2], 60))
        if kind:
            t[0] = 1.0
        p = f32(rng.uniform(-1, 1, 60))
        p[::3] = 0.0
        c.append((kind, p, t))
        # constant predictions (Corr NaN), constant truth
        c.append((kind, f32(np.full(50, 0.3)), f32(rng.uniform(-1, 1, 50) * (1 if kind == 0 else 3))))
        c.append((kind, f32(rng.uniform(-1, 1, 40)), f32(np.full(40, 0.4))))
        c.append((kind, f32(np.full(40, 2.0 if kind == 0 else 5.0)), f32(rng.uniform(-1, 1, 40))))  # clipped
        # a single class predicted (all positive), a single true class
        c.append((kind, f32(rng.uniform(0.2, 1, 30)), f32(rng.uniform(-1, 1, 30))))
        c.append((kind, f32(rng.uniform(-1, 1, 30)), f32(rng.uniform(0.2, 1, 30))))
        c.append((kind, f32(rng.uniform(-1, -0.2, 30)), f32(rng.uniform(-1, 1, 30))))
    # MAE next to a 4-decimal tie: pred (q, 1), truth (0, 1) give MAE = q / 2 exactly,
    # where rounding the float32 and the float64 value can differ
    for kind in (0, 1):
        for k in (1234, 5, 4321, 1, 2500, 4999):
            for s in (-2, -1, 0, 1, 2):
                q = nudged(2 * (k + 0.5) / 1e4, s)
                c.append((kind, f32([q, 1.0]), f32([0.0, 1.0])))
    return c


def rounding_cases(rng):
    xs, ds = [], []
    for d in range(0, 9):
        for _ in range(60):
            k = int(rng.integers(-30000, 30000))
            base = (k + 0.5) / 10 ** d
            for s in (-2, -1, 0, 1, 2):
                xs.append(float(np.nextafter(base, np.inf * s)) if s else base)
                if abs(s) == 2:
                    xs[-1] = float(np.nextafter(xs[-1], np.inf * s))
                ds.append(d)
        for v in rng.uniform(-3, 3, 40):
            xs.append(float(v))
            ds.append(d)
    for v in (2.675, 0.12345, 1.005, 0.5, 1.5, 2.5, -0.5, -2.5, 0.0, -0.0, 1e-5, 123456.78125):
        for d in (0, 2, 4):
            xs.append(v)
            ds.append(d)
    x = np.array(xs, dtype=np.float64)
    d = np.array(ds, dtype=np.int32)
    x32 = x.astype(np.float32)
    return {
        "round.x": x, "round.d": d,
        "round.py": np.array([round(float(a), int(b)) for a, b in zip(x, d)], dtype=np.float64),
        "round.np64": np.array([round(np.float64(a), int(b)) for a, b in zip(x, d)], dtype=np.float64),
        "round.x32": x32,
        "round.np32": np.array([round(np.float32(a), int(b)) for a, b in zip(x32, d)], dtype=np.float32),
    }


def load_run_normal(self_mm_git):
    """run.py's run_normal, unchanged, with the names it uses from its module bound to
    stand-ins: run() returns the scripted per-seed results."""
    src = git_show(self_mm_git, "HEAD:run.py")
    tree = ast.parse(src)
    fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run_normal"][0]
    import pandas as pd
    ns = {"os": os, "np": np, "pd": pd, "setup_seed": lambda seed: None,
          "logger": types.SimpleNamespace(info=lambda *a, **k: None)}

    class Args(dict):
        __getattr__ = dict.get

        def __setattr__(self, k, v):
            self[k] = v

    class ConfigRegression:
        def __init__(self, args):
            self.args = args

        def get_config(self):
            return self.args

    ns["ConfigRegression"] = ConfigRegression
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "run.py", "exec"), ns)

    def run_normal(results, dataset):
        out = tempfile.mkdtemp(prefix="run_normal-")
        it = iter(results)
        ns["run"] = lambda args: next(it)
        args = Args(res_save_dir=out, seeds=list(range(len(results))), train_mode="regression",
                    modelName="self_mm", datasetName=dataset)
        ns["run_normal"](args)
        path = os.path.join(out, "normals", f"{dataset}-regression.csv")
        with open(path) as f:
            rows = list(csv.reader(f))
        header, row = rows[0], rows[1]
        pairs = [ast.literal_eval(cell) for cell in row[1:]]
        return header[1:], np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    return run_normal


def summary_cases(rng, variants, run_normal):
    t = {}
    j = 0
    for kind in (0, 1, 2):
        for variant in ("selfmm", "mmsa"):
            for nseeds in (1, 2, 3, 4, 4, 5, 8, 9):
                n = int(rng.integers(8, 30))
                results, losses = [], []
                for k in range(nseeds):
                    truth = f32(np.round(rng.uniform(-1, 1, n) * (5 if kind == 0 else 9)) / (5 if kind == 0 else 3))
                    truth[0] = 1.0
                    pred = f32(truth + rng.normal(0, 0.5, n))
                    t[f"s{j}.{k}.pred"], t[f"s{j}.{k}.truth"] = pred, truth
                    res = evaluate(variants[variant][0], kind, pred, truth)
                    loss = float(np.mean(np.abs(pred - truth))) + float(rng.normal(0, 0.01))
                    if variant == "mmsa":
                        loss = round(loss, 4)  # MMSA's do_test: eval_results['Loss'] = round(eval_loss, 4)
                    res["Loss"] = loss
                    results.append(res)
                    losses.append(loss)
                # MMSA's run.py summarises with the same two lines as Self-MM's run_normal
                names, mean, std = run_normal(results, KINDS[kind].lower())
                assert names == (SIMS if kind == 0 else MOSI) + ["Loss"], names
                t[f"s{j}.kind"] = np.array([kind], dtype=np.int32)
                t[f"s{j}.variant"] = np.array([0 if variant == "selfmm" else 2], dtype=np.int32)
                t[f"s{j}.seeds"] = np.array([nseeds], dtype=np.int32)
                t[f"s{j}.loss"] = np.array(losses, dtype=np.float64)
                t[f"s{j}.mean"], t[f"s{j}.std"] = mean.astype(np.float64), std.astype(np.float64)
                j += 1
    return t, j


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("harness")
    ap.add_argument("--self-mm-git", required=True, help="a clone of thuiar/Self-MM (history to c4525c1)")
    ap.add_argument("--mmsa-git", required=True, help="a clone of thuiar/MMSA")
    a = ap.parse_args()
    variants = load_variants(a.harness, a.self_mm_git, a.mmsa_git)
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "tests", "fixtures", "train", "metrics_ref.smfx")
    rng = np.random.default_rng(20260311)
    tensors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant inputs, ill-defined F1: the cases we want
        cases = metric_cases(rng)
        for i, (kind, pred, truth) in enumerate(cases):
            tensors[f"m{i}.kind"] = np.array([kind], dtype=np.int32)
            tensors[f"m{i}.pred"], tensors[f"m{i}.truth"] = pred, truth
            for v, (cls, raw_cls) in variants.items():
                tensors[f"m{i}.{v}.value"] = values(evaluate(cls, kind, pred, truth), kind)
                tensors[f"m{i}.{v}.raw"] = values(evaluate(raw_cls, kind, pred, truth), kind)
        tensors.update(rounding_cases(rng))
        summ, nsum = summary_cases(rng, variants, load_run_normal(a.self_mm_git))
        tensors.update(summ)
    fixture_io.write(out, tensors)
    print(f"wrote {out}: {len(cases)} metric cases, {len(tensors['round.x'])} roundings, {nsum} summaries")


if __name__ == "__main__":
    main()
