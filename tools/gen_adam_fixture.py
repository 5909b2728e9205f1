#!/usr/bin/python3
"""gen_adam_fixture.py -- reference values for tests/test_adam.c.

Run: /usr/bin/python3 tools/gen_adam_fixture.py HARNESS
  HARNESS: the folder holding run_thuiar.py; tools/harness_ref.py loads the reference's
  code through it.

The model is the reference's (models/AMIO.py, tools/harness_ref.py tiny_config with a
distinct learning rate and weight decay per group, so a tensor in the wrong group shows)
with random weights. The parameter groups are the reference trainer's own: do_train
(trains/multiTask/SELF_MM.py) is run up to its optim.Adam(...) call and the five groups it
builds are kept (BERT parameters without "bias" / "LayerNorm" in the name with decay, the
other BERT parameters without, the audio subnet, the video subnet, the rest). Three steps
with scripted gradients, in two forms:

- "default": torch.optim.Adam itself, on those groups -- the reference as run today
  (Debian's torch 1.13; every torch >= 1.3 has this form). libselfmm's default.
- "adam_legacy": torch 1.2's Adam, as pinned in the reference's requirements.txt
  (torch==1.2.0). torch 1.2 cannot be installed or run here, so its step is restated
  below (LegacyAdam, from torch 1.2.0's torch/optim/adam.py): eps added to sqrt(v)
  before the bias correction, step size lr * sqrt(bc2) / bc1, and TH's unfused addcmul
  (v * b2 + ((1 - b2) * g) * g). libselfmm's config key adam_legacy = 1.

Gradients: every tensor gets one, except the BERT pooler (None: the reference never uses
it, so never updates it); the text head's gradients are zero at every step (it is still
updated: weight decay) and the audio subnet's are zero at step 2.

Writes tests/fixtures/train/adam.smfx ("init.<name>", "grad.<step>.<name>",
"<form>.<step>.<name>" after the first and the last step, "<form>.exp_avg.<name>" and
"<form>.exp_avg_sq.<name>" after the last) and adam_config.json (the model config, with
the learning rates and weight decays used).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import harness_ref  # noqa: E402

STEPS = 3
FORMS = ("default", "adam_legacy")


class LegacyAdam:
    """adam_legacy: torch 1.2.0's torch/optim/adam.py step (amsgrad off), element for
    element -- the torch pinned in the reference's requirements.txt, which cannot run
    here. Takes the same parameter groups as torch.optim.Adam."""

    def __init__(self, param_groups, betas=(0.9, 0.999), eps=1e-8):
        self.groups, self.betas, self.eps = param_groups, betas, eps
        self.state = {}

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for g in self.groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state.setdefault(p, {"step": 0, "exp_avg": torch.zeros_like(p),
                                               "exp_avg_sq": torch.zeros_like(p)})
                st["step"] += 1
                grad = p.grad
                if g["weight_decay"] != 0:
                    grad = grad.add(p, alpha=g["weight_decay"])  # 1.2: grad.add_(wd, p.data)
                st["exp_avg"].mul_(b1).add_(grad, alpha=1 - b1)
                # 1.2's addcmul was TH's `*r += value * *s1 * *s2`: not fused
                st["exp_avg_sq"].mul_(b2).add_(grad.mul(1 - b2).mul(grad))
                denom = st["exp_avg_sq"].sqrt().add_(self.eps)
                bc1 = 1 - b1 ** st["step"]
                bc2 = 1 - b2 ** st["step"]
                step_size = g["lr"] * math.sqrt(bc2) / bc1
                p.addcdiv_(st["exp_avg"], denom, value=-step_size)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("harness", help="the reference harness folder (holds run_thuiar.py)")
    a = ap.parse_args()
    ref = harness_ref.Reference(a.harness)
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, "..", "tests", "fixtures", "train")
    os.makedirs(outdir, exist_ok=True)
    # distinct rates and decays per group, so a tensor in the wrong group shows
    cfg = harness_ref.tiny_config(learning_rate_bert=2e-3, learning_rate_audio=5e-3,
                                  learning_rate_video=3e-3, learning_rate_other=1e-3,
                                  weight_decay_bert=1e-2, weight_decay_audio=3e-2,
                                  weight_decay_video=2e-2, weight_decay_other=5e-3)
    base = ref.model(cfg)
    torch.manual_seed(7)
    with torch.no_grad():
        for p in base.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    names = [n for n, _ in base.named_parameters()]
    gen = torch.Generator().manual_seed(11)
    grads = []
    for s in range(STEPS):
        gs = {}
        for n, p in base.named_parameters():
            if ".pooler." in n:
                continue
            # magnitudes spread over 1e-6 .. 1 so eps and the fused roundings matter
            g = torch.randn(p.shape, generator=gen) * torch.pow(10.0, -6 * torch.rand(p.shape, generator=gen))
            if "post_text_layer" in n or (s == 1 and "audio_model" in n):
                g = torch.zeros_like(p)
            gs[n] = g
        grads.append(gs)

    out = {f"init.{n}": p.detach().clone() for n, p in base.named_parameters()}
    for s, gs in enumerate(grads):
        for n, g in gs.items():
            out[f"grad.{s + 1}.{n}"] = g
    for form in FORMS:
        model = ref.model(cfg)
        model.load_state_dict(base.state_dict())
        params = dict(model.named_parameters())
        groups = ref.optimizer_groups(cfg, model)
        assert len(groups) == 5 and sum(len(g["params"]) for g in groups) == len(params)
        opt = torch.optim.Adam(groups) if form == "default" else LegacyAdam(groups)
        for s, gs in enumerate(grads):
            for n, p in params.items():
                p.grad = gs[n].clone() if n in gs else None
            opt.step()
            if s == 0 or s == STEPS - 1:
                for n, p in params.items():
                    out[f"{form}.{s + 1}.{n}"] = p.detach().clone()
        for n, p in params.items():
            if n in grads[0]:
                st = opt.state[p]
                out[f"{form}.exp_avg.{n}"] = st["exp_avg"].clone()
                out[f"{form}.exp_avg_sq.{n}"] = st["exp_avg_sq"].clone()
    path = os.path.join(outdir, "adam.smfx")
    fixture_io.write(path, out)
    with open(os.path.join(outdir, "adam_config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
    print(f"wrote {path}: {len(names)} tensors, {len(out)} arrays, "
          f"{sum(np.asarray(v).size for v in out.values())} floats")


if __name__ == "__main__":
    main()
