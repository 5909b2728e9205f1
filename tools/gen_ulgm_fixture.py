#!/usr/bin/python3
"""gen_ulgm_fixture.py -- reference values for tests/test_ulgm.c.

A restatement, in torch (Debian's 1.13, one thread), of the reference trainer's
label-generation functions (thuiar/Self-MM trains/multiTask/SELF_MM.py init_labels,
update_labels, update_features, update_centers; MMSA's excludeZero switch), driven over
three epochs of shuffled batches with random non-negative features (as after a ReLU),
exactly as do_train calls them: per batch, update_labels if epoch > 1, then
update_features, then update_centers.

Scenarios ("<s>." prefix): 0 and 1 share data (37 samples, the tiny model's feature
widths, batches of 8 with a short last one, H 1), with exclude_zero off and on;
2 has 300 samples (past the 256 rows where torch's cascade sum carries a level),
widths 40, 16, 1, 5 (the 32-column cascade, the 4-way row sum and the 1-column
inner reduction), batches of 32, H 3, two epochs.
Arrays: "<s>.dims", "<s>.n", "<s>.batch", "<s>.H", "<s>.exclude_zero", "<s>.labels0",
"<s>.epochs", "<s>.perm.<e>" (the epoch's order), "<s>.feat.<e>.<m>" (the features of that epoch's
batches, stacked in batch order), and after each epoch "<s>.labels.<e>.<m>" and
"<s>.center.<e>.<m>" (positive then negative center).

Writes tests/fixtures/train/ulgm.smfx. Run: /usr/bin/python3 tools/gen_ulgm_fixture.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

MODES = ["fusion", "text", "audio", "vision"]


class ReferenceLabels:
    """The reference trainer's label state (feature_map, center_map, label_map)."""

    def __init__(self, n, dims, H, exclude_zero):
        self.H, self.exclude_zero = H, exclude_zero
        self.feature_map = {m: torch.zeros(n, d) for m, d in zip(MODES, dims)}
        self.center_map = {m: {"pos": torch.zeros(d), "neg": torch.zeros(d)} for m, d in zip(MODES, dims)}
        self.label_map = {m: torch.zeros(n) for m in MODES}

    def init_labels(self, indexes, m_labels):
        for m in MODES:
            self.label_map[m][indexes] = m_labels

    def update_features(self, feats, indexes):
        for m in MODES:
            self.feature_map[m][indexes] = feats[m]

    def update_centers(self):
        for m in MODES:
            neg = self.label_map[m] < 0
            pos = self.label_map[m] > 0 if self.exclude_zero else self.label_map[m] >= 0
            self.center_map[m]["pos"] = torch.mean(self.feature_map[m][pos], dim=0)
            self.center_map[m]["neg"] = torch.mean(self.feature_map[m][neg], dim=0)

    def update_labels(self, feats, cur_epoches, indexes):
        MIN = 1e-8
        c = self.center_map
        d_fp = torch.norm(feats["fusion"] - c["fusion"]["pos"], dim=-1)
        d_fn = torch.norm(feats["fusion"] - c["fusion"]["neg"], dim=-1)
        delta_f = (d_fn - d_fp) / (d_fp + MIN)
        for m in MODES[1:]:
            d_sp = torch.norm(feats[m] - c[m]["pos"], dim=-1)
            d_sn = torch.norm(feats[m] - c[m]["neg"], dim=-1)
            delta_s = (d_sn - d_sp) / (d_sp + MIN)
            alpha = delta_s / (delta_f + MIN)
            y_f = self.label_map["fusion"][indexes]
            new_labels = 0.5 * alpha * y_f + 0.5 * (y_f + delta_s - delta_f)
            new_labels = torch.clamp(new_labels, min=-self.H, max=self.H)
            n = cur_epoches
            self.label_map[m][indexes] = (n - 1) / (n + 1) * self.label_map[m][indexes] + 2 / (n + 1) * new_labels


def features(rng, b, d):
    f = np.abs(rng.standard_normal((b, d))).astype(np.float32)
    f[rng.random((b, d)) < 0.3] = 0.0  # ReLU zeros
    return f


def scenario(out, s, rng, labels, dims, batch, H, exclude_zero, epochs=3, data=None):
    n = len(labels)
    out[f"{s}.dims"] = np.array(dims, dtype=np.int32)
    out[f"{s}.n"] = np.array([n], dtype=np.int32)
    out[f"{s}.batch"] = np.array([batch], dtype=np.int32)
    out[f"{s}.H"] = np.array([H], dtype=np.float64)
    out[f"{s}.exclude_zero"] = np.array([int(exclude_zero)], dtype=np.int32)
    out[f"{s}.epochs"] = np.array([epochs], dtype=np.int32)
    out[f"{s}.labels0"] = labels
    ref = ReferenceLabels(n, dims, H, exclude_zero)
    ref.init_labels(torch.arange(n), torch.tensor(labels))
    made = {}
    for e in range(1, epochs + 1):
        perm = data[f"perm.{e}"] if data else rng.permutation(n).astype(np.int32)
        feats = data[f"feat.{e}"] if data else {m: features(rng, n, d) for m, d in zip(MODES, dims)}
        made[f"perm.{e}"], made[f"feat.{e}"] = perm, feats
        out[f"{s}.perm.{e}"] = perm
        for m in MODES:
            out[f"{s}.feat.{e}.{m}"] = feats[m]
        for lo in range(0, n, batch):
            idx = torch.tensor(perm[lo:lo + batch], dtype=torch.long)
            f = {m: torch.tensor(feats[m][lo:lo + batch]) for m in MODES}
            if e > 1:
                ref.update_labels(f, e, idx)
            ref.update_features(f, idx)
            ref.update_centers()
        for m in MODES:
            out[f"{s}.labels.{e}.{m}"] = ref.label_map[m].clone()
            out[f"{s}.center.{e}.{m}"] = torch.cat([ref.center_map[m]["pos"], ref.center_map[m]["neg"]])
            assert torch.isfinite(ref.label_map[m]).all()
    return made


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "fixtures", "train", "ulgm.smfx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(424242)
    out = {}
    # SIMS-like labels on a 0.2 grid: zeros present, so exclude_zero matters
    labels = (np.round(rng.uniform(-1, 1, 37) * 5) / 5).astype(np.float32)
    data = scenario(out, 0, rng, labels, [12, 10, 6, 9], 8, 1.0, False)
    scenario(out, 1, rng, labels, [12, 10, 6, 9], 8, 1.0, True, data=data)
    labels = (np.round(rng.uniform(-3, 3, 300) * 3) / 3).astype(np.float32)
    scenario(out, 2, rng, labels, [40, 16, 1, 5], 32, 3.0, False, epochs=2)
    fixture_io.write(path, out)
    print(f"wrote {path}: {len(out)} arrays")


if __name__ == "__main__":
    main()
