#!/usr/bin/python3
"""gen_ulgm_fixture.py -- reference values for tests/test_ulgm.c, computed by the
reference trainer itself.

Run: /usr/bin/python3 tools/gen_ulgm_fixture.py HARNESS
  HARNESS: the folder holding run_thuiar.py (the harness that runs thuiar/Self-MM's own
  code on Debian's python3-torch); tools/harness_ref.py imports the reference's code
  through it. Nothing of the reference is restated here.

Each scenario builds the reference trainer (trains/multiTask/SELF_MM.py, class SELF_MM)
from the reference's own config (config/config_regression.py, the dataset named below;
train_samples and device set as run_thuiar.py sets them, the feature widths of scenario 2
overridden like run_thuiar.py --set does) and calls its own methods in do_train's order:
init_labels over the training batches, then per epoch and batch the four weighted_loss
calls on scripted predictions (loss = 0.0; loss += ... as do_train sums them), then
update_labels (epoch > 1), update_features, update_centers -- on scripted features (random
non-negative values, as after the ReLU). What is scripted is only the input; every label,
center and loss is the reference's result.

The reference trainer has no excludeZero key: its Storage returns False for a missing key,
so the positive center uses labels >= 0 (scenarios 0 and 2). Scenario 1 sets
args.excludeZero = True, as MMSA's config does (labels > 0).

Scenarios ("<s>." prefix):
  0  SIMS config (H 1, post dims 128, 64, 16, 32), 37 samples, batches of 8 (last one 5),
     3 epochs; labels on SIMS's 0.2 grid plus labels near zero (+-1e-4, 3e-7, 0, -0.0).
  1  the same data with excludeZero true (MMSA).
  2  MOSI config (H 3), 300 samples (past the 256 rows where torch's cascade sum carries a
     level), post dims overridden to 40, 16, 1, 5 (the 32-column cascade, the 4-way row
     sum, the 1-column inner reduction), batches of 32 (last one 12), 3 epochs; labels on
     MOSI's 1/3 grid in [-3, 3].
From epoch 2 on, the first sample of every batch gets the midpoint of the current fusion
centers as its fusion feature (delta_f = 0 up to rounding) and the second one the midpoint
plus 1e-5-sized noise (delta_f tiny): alpha = delta_s / (delta_f + 1e-8) is then huge and
the clamp at +-H acts. The generator counts, through a wrapper around the torch module the
trainer module sees, how many values torch.clamp changed, and fails if none.

Arrays: "<s>.dims", "<s>.n", "<s>.batch", "<s>.H", "<s>.exclude_zero", "<s>.labels0",
"<s>.epochs", "<s>.perm.<e>" (the epoch's order), "<s>.feat.<e>.<m>" (the features of that
epoch's batches, stacked in batch order), "<s>.pred.<e>" (n, 4: the scripted outputs M, T,
A, V in batch order), "<s>.loss.<e>" (batches, 5: the reference's loss and its four
weighted_loss terms M, T, A, V), and after each epoch "<s>.labels.<e>.<m>" and
"<s>.center.<e>.<m>" (positive then negative center).

Writes tests/fixtures/train/ulgm.smfx (Debian 12's python3-torch 1.13, one thread).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import harness_ref  # noqa: E402

MODES = ["fusion", "text", "audio", "vision"]
TASKS = "MTAV"   # do_train's self.args.tasks, mapped by its name_map
NAME = dict(zip(TASKS, MODES))


class ClampCounter:
    """Stands in for the torch module inside the trainer module: everything is torch's,
    torch.clamp also counts the values it changed."""

    def __init__(self):
        self.changed = 0

    def __getattr__(self, name):
        return getattr(torch, name)

    def clamp(self, x, *a, **k):
        r = torch.clamp(x, *a, **k)
        self.changed += int((r != x).sum())
        return r


def make_trainer(ref, dataset, n, over, exclude_zero):
    args = ref.config(dataset, train_samples=n, **over)
    if exclude_zero:
        args["excludeZero"] = True
    return ref.trainer_module.SELF_MM(ref.Storage(args)), args


def features(rng, b, d):
    f = np.abs(rng.standard_normal((b, d))).astype(np.float32)
    f[rng.random((b, d)) < 0.3] = 0.0  # ReLU zeros
    return f


def scenario(out, s, ref, rng, dataset, labels, batch, exclude_zero, epochs=3, over=None, data=None):
    n = len(labels)
    counter = ClampCounter()
    ref.trainer_module.torch = counter
    t, args = make_trainer(ref, dataset, n, over or {}, exclude_zero)
    dims = [args.post_fusion_dim, args.post_text_dim, args.post_audio_dim, args.post_video_dim]
    H = float(args.H)
    out[f"{s}.dims"] = np.array(dims, dtype=np.int32)
    out[f"{s}.n"] = np.array([n], dtype=np.int32)
    out[f"{s}.batch"] = np.array([batch], dtype=np.int32)
    out[f"{s}.H"] = np.array([H], dtype=np.float64)
    out[f"{s}.exclude_zero"] = np.array([int(bool(args.excludeZero))], dtype=np.int32)
    out[f"{s}.epochs"] = np.array([epochs], dtype=np.int32)
    out[f"{s}.labels0"] = labels
    made = dict(data or {})

    def scripted(key, make):  # the same inputs for a scenario given another's data
        if key not in made:
            made[key] = make()
        return made[key]

    # init labels: do_train's pass over the training batches (order does not matter)
    order = scripted("perm.0", lambda: rng.permutation(n))
    for lo in range(0, n, batch):
        idx = torch.tensor(order[lo:lo + batch], dtype=torch.long)
        t.init_labels(idx, torch.tensor(labels)[idx])
    for e in range(1, epochs + 1):
        perm = scripted(f"perm.{e}", lambda: rng.permutation(n).astype(np.int32))
        feats = scripted(f"feat.{e}", lambda: {m: features(rng, n, d) for m, d in zip(MODES, dims)})
        feats = {m: f.copy() for m, f in feats.items()}
        pred = scripted(f"pred.{e}", lambda: rng.uniform(-H, H, (n, 4)).astype(np.float32))
        noise = scripted(f"noise.{e}", lambda: rng.standard_normal((n, dims[0])).astype(np.float32) * 1e-5)
        losses = []
        for lo in range(0, n, batch):
            idx = torch.tensor(perm[lo:lo + batch], dtype=torch.long)
            if e > 1:
                # delta_f ~ 0: the fusion feature half way between the reference's centers
                c = t.center_map["fusion"]
                mid = ((c["pos"] + c["neg"]) / 2).numpy()
                feats["fusion"][lo] = mid
                if lo + 1 < n:
                    feats["fusion"][lo + 1] = np.abs(mid + noise[lo + 1])
            f = {m: torch.tensor(feats[m][lo:lo + batch]) for m in MODES}
            outputs = {k: torch.tensor(pred[lo:lo + batch, j:j + 1]) for j, k in enumerate(TASKS)}
            outputs.update({"Feature_" + k: f[m] for k, m in zip("ftav", MODES)})
            loss, parts = 0.0, []
            for m in TASKS:
                part = t.weighted_loss(outputs[m], t.label_map[NAME[m]][idx], indexes=idx, mode=NAME[m])
                parts.append(float(part))
                loss += part
            losses.append([float(loss)] + parts)
            if e > 1:
                t.update_labels(f["fusion"], f["text"], f["audio"], f["vision"], e, idx, outputs)
            t.update_features(f["fusion"], f["text"], f["audio"], f["vision"], idx)
            t.update_centers()
        out[f"{s}.perm.{e}"] = perm
        for m in MODES:
            out[f"{s}.feat.{e}.{m}"] = feats[m]
        out[f"{s}.pred.{e}"] = pred
        out[f"{s}.loss.{e}"] = np.array(losses, dtype=np.float64)
        for m in MODES:
            out[f"{s}.labels.{e}.{m}"] = t.label_map[m].clone()
            out[f"{s}.center.{e}.{m}"] = torch.cat([t.center_map[m]["pos"], t.center_map[m]["neg"]])
            assert torch.isfinite(t.label_map[m]).all(), (s, e, m)
    assert counter.changed > 0, f"scenario {s}: the clamp at H never acted"
    print(f"scenario {s} ({dataset}, H {H}, excludeZero {bool(args.excludeZero)}): "
          f"{counter.changed} label values clamped")
    ref.trainer_module.torch = torch
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("harness", help="the reference harness folder (holds run_thuiar.py)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                  "tests", "fixtures", "train", "ulgm.smfx"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    ref = harness_ref.Reference(a.harness)
    rng = np.random.default_rng(424242)
    out = {}
    # SIMS labels on a 0.2 grid (zeros present, so excludeZero matters) and a few near 0
    labels = (np.round(rng.uniform(-1, 1, 37) * 5) / 5).astype(np.float32)
    labels[[3, 9, 17, 25, 30]] = [1e-4, -1e-4, 3e-7, 0.0, -0.0]
    data = scenario(out, 0, ref, rng, "sims", labels, 8, False)
    scenario(out, 1, ref, rng, "sims", labels, 8, True, data=data)
    labels = (np.round(rng.uniform(-3, 3, 300) * 3) / 3).astype(np.float32)
    scenario(out, 2, ref, rng, "mosi", labels, 32, False,
             over=dict(post_fusion_dim=40, post_text_dim=16, post_audio_dim=1, post_video_dim=5))
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    fixture_io.write(a.out, out)
    print(f"wrote {a.out}: {len(out)} arrays, {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
