#!/usr/bin/python3
"""gen_reference_early_stop.py -- the reference trainer's early-stopping decisions for
tests/test_early_stop.c, made by the reference code itself.

  /usr/bin/python3 tools/gen_reference_early_stop.py HARNESS

HARNESS is ../shared/reference/harness (loaded through tools/harness_ref.py, as
run_thuiar.py sets up its import path); thuiar/Self-MM's own trainer (trains/multiTask/SELF_MM.py, class SELF_MM, with the
config of config/config_regression.py) runs do_train unchanged on a tiny stand-in model
(a few linear layers with the submodule names the trainer's optimizer groups read) and
a 6-sample dataset, with two things replaced:
- do_test returns a scripted validation result {'Loss': loss} per epoch (the only key
  do_train reads: KeyEval is 'Loss');
- torch.save records the epoch in which the trainer saved the model (its "new best").
do_train returns when it decides to stop; the number of do_test calls is the number of
epochs it ran. A script that runs out goes on with NaN (never better), so the stop is
always the trainer's own.

Writes tests/fixtures/train/early_stop.smfx: for case i, "e<i>.early_stop" (int),
"e<i>.loss" (float64, the Loss of every epoch run), "e<i>.saved" (int, 1 where torch.save
was called), "e<i>.epochs" (int).
Run: /usr/bin/python3 tools/gen_reference_early_stop.py ../shared/reference/harness
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import harness_ref  # noqa: E402


class Tiny(torch.nn.Module):
    """What do_train touches of AMIO: model.Model.{text,audio,video}_model and a forward
    giving M, T, A, V and the four features."""

    def __init__(self, a):
        super().__init__()
        self.Model = torch.nn.Module()
        self.Model.text_model = torch.nn.Linear(4, a.post_text_dim)
        self.Model.audio_model = torch.nn.Linear(2, a.post_audio_dim)
        self.Model.video_model = torch.nn.Linear(3, a.post_video_dim)
        self.Model.fusion = torch.nn.Linear(a.post_text_dim + a.post_audio_dim + a.post_video_dim, a.post_fusion_dim)
        self.Model.heads = torch.nn.ModuleList(torch.nn.Linear(d, 1) for d in (
            a.post_fusion_dim, a.post_text_dim, a.post_audio_dim, a.post_video_dim))

    def forward(self, text, audio, vision):
        m = self.Model
        ft = m.text_model(text.mean(dim=1))
        fa = m.audio_model(audio[0].mean(dim=1))
        fv = m.video_model(vision[0].mean(dim=1))
        ff = m.fusion(torch.cat([ft, fa, fv], dim=-1))
        out = [h(f) for h, f in zip(m.heads, (ff, ft, fa, fv))]
        return {'M': out[0], 'T': out[1], 'A': out[2], 'V': out[3],
                'Feature_f': ff, 'Feature_t': ft, 'Feature_a': fa, 'Feature_v': fv}


def loaders(n=6, bs=3):
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0.8, -0.6, 0.2, -0.2, 1.0, -1.0])
    batches = []
    for i in range(0, n, bs):
        idx = torch.arange(i, min(i + bs, n))
        b = len(idx)
        batches.append({'text': torch.randn(b, 3, 4, generator=g), 'audio': torch.randn(b, 5, 2, generator=g),
                        'vision': torch.randn(b, 5, 3, generator=g), 'index': idx, 'id': [str(j) for j in idx.tolist()],
                        'audio_lengths': torch.full((b,), 5), 'vision_lengths': torch.full((b,), 5),
                        'labels': {'M': labels[idx].view(-1, 1)}})
    return {'train': batches, 'valid': [], 'test': []}


def run_case(ref, early_stop, script):
    args = ref.config('sims', train_samples=6, model_save_path=os.devnull, early_stop=early_stop)
    torch.manual_seed(1)
    model = Tiny(ref.Storage(args))
    t = ref.trainer_module.SELF_MM(ref.Storage(args))
    fed, saved = [], []

    def do_test(model, loader, mode='VAL'):
        loss = script[len(fed)] if len(fed) < len(script) else float('nan')
        fed.append(loss)
        saved.append(0)
        return {'Loss': loss}

    def save(obj, path, *a, **k):
        saved[-1] = 1
    t.do_test = do_test
    real_save, torch.save = torch.save, save
    try:
        t.do_train(model, loaders())
    finally:
        torch.save = real_save
    return fed, saved


def scripts(rng):
    c = []
    d = 1e-6
    c.append((8, [1.0, 0.9, 0.8, 0.85, 0.8, 0.8, 0.79, 0.7]))                      # improvements, then a plateau
    c.append((3, [0.5] * 6))                                                        # ties: only the first counts
    c.append((3, [0.5, 0.5 - 0.5 * d, 0.5 - 0.99 * d, 0.5 - d, 0.5 - 1.01 * d]))    # within 1e-6 and about 1e-6 apart
    c.append((4, [0.5, 0.499999, 0.499998, 0.499997, 0.4999965, 0.499996]))        # 1e-6 apart as decimals
    c.append((4, [0.3, 0.3 - d, 0.3 - 2 * d, 0.3 - 3 * d]))                        # 1e-6 apart as arithmetic
    c.append((3, [1e8, 1e8 - d, 1e8 - 2e-6, 1e8 - 3e-6]))                          # the 1e8 start
    c.append((3, [1e8 - 1e-6, 1e8]))
    c.append((2, [2e8, 3e8, 1.0]))                                                  # never better than 1e8
    c.append((5, [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7]))                # improvement after a plateau
    c.append((2, [float('nan'), 0.5, float('nan'), 0.4, 0.4]))                     # NaN is never better
    c.append((3, [0.1234, 0.1234, 0.1233, 0.1233, 0.1233]))                         # MMSA's 4-decimal Loss
    c.append((3, [0.0, 0.0, 0.0]))
    for es in (1, 2, 3, 8, 20):
        c.append((es, [0.9, 0.8, 0.81, 0.79, 0.795, 0.7, 0.72, 0.73, 0.71, 0.70, 0.6999995, 0.69]))
    # random walks over a few values with 1e-6-sized steps: ties, near ties, jumps
    steps = np.array([0.0, 0.0, d, -d, 0.5 * d, -0.5 * d, 2 * d, -2 * d, -1e-3, 1e-3, -0.9999 * d, -1.0001 * d])
    for _ in range(30):
        es = int(rng.choice([1, 2, 3, 4, 8]))
        x = float(rng.uniform(0.2, 1.5))
        seq = []
        for _ in range(40):
            x += float(rng.choice(steps))
            seq.append(x)
        c.append((es, seq))
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("harness")
    a = ap.parse_args()
    ref = harness_ref.Reference(a.harness)
    import logging
    logging.disable(logging.CRITICAL)
    ref.trainer_module.tqdm = lambda it, *a, **k: _Quiet(it)  # no progress bars on stderr
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "tests", "fixtures", "train", "early_stop.smfx")
    rng = np.random.default_rng(20260312)
    tensors = {}
    cases = scripts(rng)
    for i, (es, script) in enumerate(cases):
        fed, saved = run_case(ref, es, script)
        tensors[f"e{i}.early_stop"] = np.array([es], dtype=np.int32)
        tensors[f"e{i}.loss"] = np.array(fed, dtype=np.float64)
        tensors[f"e{i}.saved"] = np.array(saved, dtype=np.int32)
        tensors[f"e{i}.epochs"] = np.array([len(fed)], dtype=np.int32)
    fixture_io.write(out, tensors)
    print(f"wrote {out}: {len(cases)} cases, {sum(int(t[0]) for k, t in tensors.items() if k.endswith('.epochs'))} epochs")


class _Quiet:
    """tqdm's context manager and iteration without output."""

    def __init__(self, it):
        self.it = it

    def __enter__(self):
        return self.it

    def __exit__(self, *a):
        return False

    def __iter__(self):
        return iter(self.it)


if __name__ == "__main__":
    main()
