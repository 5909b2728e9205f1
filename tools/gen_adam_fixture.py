#!/usr/bin/python3
"""gen_adam_fixture.py -- reference values for tests/test_adam.c.

A tiny Self-MM (tools/selfmm_ref.py) with random weights, the reference trainer's five
parameter groups (trains/multiTask/SELF_MM.py do_train: BERT params named with "bias"
or "LayerNorm.weight" without decay, other BERT params, audio subnet, video subnet,
the rest), three steps with random gradients, in two forms:

- "new": torch.optim.Adam itself (Debian's torch 1.13; MMSA's torch >= 1.3 form);
- "legacy": torch 1.2's Adam.step restated with torch ops: eps added to sqrt(v)
  before the bias correction, step size lr * sqrt(bc2) / bc1, and TH's unfused
  addcmul (v * b2 + ((1 - b2) * g) * g).

Gradients: every tensor gets one, except the BERT pooler (None: never updated); the
text head's gradients are zero at every step (it is still updated: weight decay) and
the audio subnet's are zero at step 2.

Writes tests/fixtures/train/adam.smfx ("init.<name>", "grad.<step>.<name>",
"<form>.<step>.<name>" after the first and the last step, "<form>.exp_avg.<name>" and
"<form>.exp_avg_sq.<name>" after the last) and adam_config.json (the model config, with
the learning rates and weight decays used).
Run: /usr/bin/python3 tools/gen_adam_fixture.py
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import selfmm_ref  # noqa: E402

STEPS = 3


def groups(model, cfg):
    """The reference trainer's five parameter groups."""
    no_decay = ["bias", "LayerNorm.bias", "LayerNorm.weight"]
    bert = list(model.Model.text_model.named_parameters())
    return [
        {"params": [p for n, p in bert if not any(nd in n for nd in no_decay)],
         "weight_decay": cfg["weight_decay_bert"], "lr": cfg["learning_rate_bert"]},
        {"params": [p for n, p in bert if any(nd in n for nd in no_decay)],
         "weight_decay": 0.0, "lr": cfg["learning_rate_bert"]},
        {"params": [p for _, p in model.Model.audio_model.named_parameters()],
         "weight_decay": cfg["weight_decay_audio"], "lr": cfg["learning_rate_audio"]},
        {"params": [p for _, p in model.Model.video_model.named_parameters()],
         "weight_decay": cfg["weight_decay_video"], "lr": cfg["learning_rate_video"]},
        {"params": [p for n, p in model.Model.named_parameters()
                    if "text_model" not in n and "audio_model" not in n and "video_model" not in n],
         "weight_decay": cfg["weight_decay_other"], "lr": cfg["learning_rate_other"]},
    ]


class LegacyAdam:
    """torch 1.2.0's torch/optim/adam.py step (amsgrad off), element for element."""

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
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, "..", "tests", "fixtures", "train")
    os.makedirs(outdir, exist_ok=True)
    # distinct rates and decays per group, so a tensor in the wrong group shows
    cfg = selfmm_ref.tiny_config(learning_rate_bert=2e-3, learning_rate_audio=5e-3,
                                 learning_rate_video=3e-3, learning_rate_other=1e-3,
                                 weight_decay_bert=1e-2, weight_decay_audio=3e-2,
                                 weight_decay_video=2e-2, weight_decay_other=5e-3)
    torch.manual_seed(7)
    base = selfmm_ref.AMIO(cfg)
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
    for form in ("new", "legacy"):
        model = selfmm_ref.AMIO(cfg)
        model.load_state_dict(base.state_dict())
        params = dict(model.named_parameters())
        opt = (torch.optim.Adam(groups(model, cfg)) if form == "new" else LegacyAdam(groups(model, cfg)))
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
