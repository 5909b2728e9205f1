#!/usr/bin/python3
"""gen_train_reference.py -- a reference training run for tests/test_train_reference.c.

Trains a tiny Self-MM (tools/selfmm_ref.py) for three epochs on a tiny MMSA-format
dataset, exactly as the reference trainer does it (thuiar/Self-MM trains/multiTask/
SELF_MM.py do_train), with dropout off, no shuffling (the DataLoader's shuffle=True
replaced by the data order) and fixed initial weights:

  init_labels from the train split's regression labels;
  per epoch, per batch in order:
    zero_grad when the batch opens a window of update_epochs batches;
    forward (train mode); loss = sum over M, T, A, V of weighted_loss (weights
    tanh(|y_m - y_fusion|) for T, A, V, constants); backward;
    if epoch > 1: update_labels (centers of the previous batch); update_features;
    update_centers;
    optimizer step when the batch closes a window;
  the final partial window of an epoch is discarded;
  after each epoch: validation in eval mode, in order; Loss = mean over batches of the
  batch mean |M - y|.

The optimizer is Adam with the trainer's five groups in torch 1.2's form (Self-MM's
torch; tools/gen_adam_fixture.py LegacyAdam), and the label state is the reference's
(tools/gen_ulgm_fixture.py ReferenceLabels).

Sizes: 26 training samples in batches of 4 (six full, one of 2) with update_epochs 3,
so each epoch takes two steps and discards a partial window of one batch; 7 validation
samples (batches of 4 and 3); 5 test samples.

Writes in tests/fixtures/train/:
- train_ref_data.pkl: the dataset as an MMSA pickle (pickle.dump, protocol 4) of a dict
  like the real ones: train/valid/test, each with text_bert (N, 3, L), text (N, L, 4: a
  stand-in, Self-MM never reads it), audio (N, Ta, Da) with a few -inf values (the
  reference sets them to 0), vision (N, Tv, Dv), audio_lengths / vision_lengths (NumPy
  int64 arrays; Python lists in valid), regression_labels, regression_labels_T/A/V,
  classification_labels, annotations, raw_text, id. Frames past a sample's length hold
  random values (they must not matter). The test split stores text_bert and audio as
  float64.
- train_ref_config.json: the libselfmm config of the run.
- train_reference.smfx: "<split>.text_bert" (int32), "<split>.audio" (float32, -inf
  kept), "<split>.vision", "<split>.audio_lengths", "<split>.vision_lengths",
  "<split>.labels", "<split>.labels_T/A/V"; "init.<param>" and "final.<param>" (all weights, reference names);
  per epoch e: "loss.<e>" (batches, 5: total, M, T, A, V), "out.<e>" (samples in batch
  order, 4: M, T, A, V), "feature.<e>.<m>" (stored features in batch order),
  "labels.<e>.<m>" (after the epoch), "valid_pred.<e>" (M); "valid_loss" (epochs,
  float64); "steps_per_epoch".
Run: /usr/bin/python3 tools/gen_train_reference.py
"""
import json
import os
import pickle
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import selfmm_ref  # noqa: E402
from gen_adam_fixture import LegacyAdam, groups  # noqa: E402
from gen_ulgm_fixture import MODES, ReferenceLabels  # noqa: E402

EPOCHS = 3
L, TA, DA, TV, DV = 8, 6, 4, 5, 6
SPLITS = {"train": 26, "valid": 7, "test": 5}
TASKS = "MTAV"
NAME = {"M": "fusion", "T": "text", "A": "audio", "V": "vision"}


def make_split(rng, n, vocab, split):
    text_len = rng.integers(2, L + 1, n)
    text_len[0] = L
    ids = np.zeros((n, L))
    mask = np.zeros((n, L))
    seg = np.zeros((n, L))
    for i in range(n):
        ids[i, :text_len[i]] = rng.integers(1, vocab, text_len[i])
        mask[i, :text_len[i]] = 1
    seg[1, 3:text_len[1]] = 1  # a second segment in one sample
    text_bert = np.stack([ids, mask, seg], axis=1).astype(np.float32)
    a_len = rng.integers(1, TA + 1, n)
    v_len = rng.integers(1, TV + 1, n)
    a_len[0], v_len[0], a_len[1], v_len[1] = TA, TV, 1, 1
    audio = rng.standard_normal((n, TA, DA)).astype(np.float32)
    vision = rng.standard_normal((n, TV, DV)).astype(np.float32)
    if split == "train":
        audio[2, 0, 1] = -np.inf
        audio[5, TA - 1, 3] = -np.inf
    # SIMS-like labels on a 0.2 grid in [-1, 1]: zeros and both signs present
    y = (np.round(rng.uniform(-1, 1, n) * 5) / 5).astype(np.float32)
    y[:3] = [0.0, -0.6, 0.8]
    uni = {k: (np.round(rng.uniform(-1, 1, n) * 5) / 5).astype(np.float32) for k in "TAV"}
    d = {
        "raw_text": np.array([f"sample {split} {i}" for i in range(n)]),
        "audio": audio if split != "test" else audio.astype(np.float64),
        "vision": vision,
        "id": np.array([f"video{i // 3}$_${i % 3}" for i in range(n)]),
        "text": rng.standard_normal((n, L, 4)).astype(np.float32),
        "text_bert": text_bert if split != "test" else text_bert.astype(np.float64),
        "annotations": np.array(["Positive" if v > 0 else "Negative" if v < 0 else "Neutral" for v in y]),
        "classification_labels": np.sign(y).astype(np.float32) + 1,
        "regression_labels": y,
        "regression_labels_T": uni["T"],
        "regression_labels_A": uni["A"],
        "regression_labels_V": uni["V"],
        "audio_lengths": a_len.astype(np.int64) if split != "valid" else [int(v) for v in a_len],
        "vision_lengths": v_len.astype(np.int64) if split != "valid" else [int(v) for v in v_len],
    }
    return d


class Split:
    """What the reference's MMDataset keeps of a split (MMSA data_loader.py)."""

    def __init__(self, d):
        self.text = d["text_bert"].astype(np.float32)
        self.audio = d["audio"].astype(np.float32)
        self.audio[self.audio == -np.inf] = 0
        self.vision = d["vision"].astype(np.float32)
        self.audio_lengths = np.asarray(d["audio_lengths"])
        self.vision_lengths = np.asarray(d["vision_lengths"])
        self.labels = d["regression_labels"].astype(np.float32)

    def batches(self, bs):
        n = len(self.labels)
        for lo in range(0, n, bs):
            idx = np.arange(lo, min(n, lo + bs))
            yield (torch.tensor(idx), torch.tensor(self.text[idx]),
                   (torch.tensor(self.audio[idx]), torch.tensor(self.audio_lengths[idx])),
                   (torch.tensor(self.vision[idx]), torch.tensor(self.vision_lengths[idx])),
                   torch.tensor(self.labels[idx]))


def weighted_loss(y_pred, y_true, ulgm, indexes=None, mode="fusion"):
    """The trainer's weighted_loss."""
    y_pred, y_true = y_pred.view(-1), y_true.view(-1)
    if mode == "fusion":
        w = torch.ones_like(y_pred)
    else:
        w = torch.tanh(torch.abs(ulgm.label_map[mode][indexes] - ulgm.label_map["fusion"][indexes]))
    return torch.mean(w * torch.abs(y_pred - y_true))


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, "..", "tests", "fixtures", "train")
    os.makedirs(outdir, exist_ok=True)
    cfg = selfmm_ref.tiny_config(batch_size=4, update_epochs=3, learning_rate_bert=2e-3,
                                 learning_rate_other=2e-3, audio_dim=DA, video_dim=DV,
                                 max_position_embeddings=L + 4)
    rng = np.random.default_rng(5150)
    data = {s: make_split(rng, n, cfg["vocab_size"], s) for s, n in SPLITS.items()}
    with open(os.path.join(outdir, "train_ref_data.pkl"), "wb") as f:
        pickle.dump(data, f, protocol=4)
    lib_cfg = dict(cfg, adam_legacy=True, f1_truth_weighted=False, shuffle=False, max_epochs=EPOCHS,
                   seed=1111)
    with open(os.path.join(outdir, "train_ref_config.json"), "w") as f:
        json.dump(lib_cfg, f, indent=1, sort_keys=True)

    out = {}
    splits = {s: Split(d) for s, d in data.items()}
    for s, d in data.items():
        out[f"{s}.text_bert"] = d["text_bert"].astype(np.int32)
        out[f"{s}.audio"] = d["audio"].astype(np.float32)
        out[f"{s}.vision"] = d["vision"].astype(np.float32)
        out[f"{s}.audio_lengths"] = np.asarray(d["audio_lengths"], dtype=np.int32)
        out[f"{s}.vision_lengths"] = np.asarray(d["vision_lengths"], dtype=np.int32)
        out[f"{s}.labels"] = d["regression_labels"]
        for k in "TAV":
            out[f"{s}.labels_{k}"] = d[f"regression_labels_{k}"]

    torch.manual_seed(1111)
    model = selfmm_ref.AMIO(cfg)
    for n, p in model.named_parameters():
        out[f"init.{n}"] = p.detach().clone()
    optimizer = LegacyAdam(groups(model, cfg))
    train = splits["train"]
    ntrain = len(train.labels)
    dims = [cfg["post_fusion_dim"], cfg["post_text_dim"], cfg["post_audio_dim"], cfg["post_video_dim"]]
    ulgm = ReferenceLabels(ntrain, dims, cfg["H"], cfg["exclude_zero"])
    ulgm.init_labels(torch.arange(ntrain), torch.tensor(train.labels))

    valid_losses, steps = [], 0
    for epoch in range(1, EPOCHS + 1):
        model.train()
        left = cfg["update_epochs"]
        losses, outs, feats = [], [], {m: [] for m in MODES}
        for idx, text, audio, vision, _ in train.batches(cfg["batch_size"]):
            if left == cfg["update_epochs"]:
                model.zero_grad()
            left -= 1
            o = model(text, audio, vision)
            loss, parts = 0.0, []
            for m in TASKS:
                part = weighted_loss(o[m], ulgm.label_map[NAME[m]][idx], ulgm, indexes=idx, mode=NAME[m])
                parts.append(part.item())
                loss += part
            loss.backward()
            losses.append([loss.item()] + parts)
            outs.append(torch.cat([o[m].detach().view(-1, 1) for m in TASKS], dim=1))
            f = {"fusion": o["Feature_f"].detach(), "text": o["Feature_t"].detach(),
                 "audio": o["Feature_a"].detach(), "vision": o["Feature_v"].detach()}
            for m in MODES:
                feats[m].append(f[m])
            if epoch > 1:
                ulgm.update_labels(f, epoch, idx)
            ulgm.update_features(f, idx)
            ulgm.update_centers()
            if not left:
                optimizer.step()
                steps += 1
                left = cfg["update_epochs"]
        out[f"loss.{epoch}"] = np.array(losses, dtype=np.float64)
        out[f"out.{epoch}"] = torch.cat(outs)
        for m in MODES:
            out[f"feature.{epoch}.{m}"] = torch.cat(feats[m])
            out[f"labels.{epoch}.{m}"] = ulgm.label_map[m].clone()
        # validation: eval mode, in order, mean of the batch means
        model.eval()
        eval_loss, preds, nb = 0.0, [], 0
        with torch.no_grad():
            for _, text, audio, vision, labels in splits["valid"].batches(cfg["batch_size"]):
                o = model(text, audio, vision)
                eval_loss += weighted_loss(o["M"], labels, ulgm).item()
                preds.append(o["M"].view(-1))
                nb += 1
        valid_losses.append(eval_loss / nb)
        out[f"valid_pred.{epoch}"] = torch.cat(preds)
    out["valid_loss"] = np.array(valid_losses, dtype=np.float64)
    out["steps_per_epoch"] = np.array([steps // EPOCHS], dtype=np.int32)
    for n, p in model.named_parameters():
        out[f"final.{n}"] = p.detach().clone()
    path = os.path.join(outdir, "train_reference.smfx")
    fixture_io.write(path, out)
    print(f"wrote {path}: {len(out)} arrays, {steps} optimizer steps; valid Loss {valid_losses}")
    moved = sum(float((out[f'final.{n}'] - out[f'init.{n}']).abs().max()) > 0 for n, _ in model.named_parameters())
    print(f"{moved} of {len(list(model.parameters()))} tensors moved")


if __name__ == "__main__":
    main()
