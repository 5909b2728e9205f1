#!/usr/bin/python3
"""gen_model_reference.py -- whole-model reference values for tests/test_model_ref.c,
computed by the reference model itself.

Run: /usr/bin/python3 tools/gen_model_reference.py HARNESS   (writes into tests/fixtures/)
  HARNESS: the folder holding run_thuiar.py; tools/harness_ref.py loads the reference's
  code through it.

The model is the reference's: models/AMIO.py holding models/multiTask/SELF_MM.py, built
from the reference's SIMS config with small shapes set over it (tools/harness_ref.py
tiny_config: tiny BERT, small LSTMs, the real head structure; its BERT is the harness's
HuggingFace-layout stand-in for transformers' BertModel). Fixed seeded weights are set
in it, it runs in train mode in float64 (model.double()), and
the loss is the reference trainer's (trains/multiTask/SELF_MM.py SELF_MM.weighted_loss,
summed over M, T, A, V as do_train sums them, with the case's labels in its label_map).
Dumped (SMFX, tools/fixture_io.py):
  w.<name>            every weight, by state_dict name (float32 values; the float64
                      model uses exactly these)
  <case>.text_ids / .text_mask / .text_segment (B, L) int32, .audio (B, Ta, Da),
  .audio_lengths, .vision, .vision_lengths, .labels (4, B), .step (the dropout step)
  <case>.M/.T/.A/.V (B), .feature_f/_t/_a/_v (B, dim), .loss (5: total, M, T, A, V)
  <case>.g.<name>     every parameter's gradient of the total loss
Cases (in tests/fixtures/model_ref.smfx, every dropout p = 0, train mode):
  b4     B = 4, L = 9: lengths 9, 5, 3, 7; segment ids 0/1; nonzero ids and features
         in the padding (they must not matter)
  b1     B = 1. The reference cannot run a batch of one: AuViSubNet's
         final_states[0].squeeze() drops the batch axis and the concatenation fails. It
         runs the sample twice (B = 2) instead: samples are independent through the model,
         the batch-mean loss of two equal terms is that term, so outputs, loss and
         gradients are those of the sample alone; the fixture holds it as B = 1.
  short  B = 3, L = 12, longest real text 6 (the batch runs shorter than its padding)
  holes  B = 4, L = 9, masks that are not a prefix: a full one, one with holes, one
         whose [CLS] is masked, one with [CLS] alone (libselfmm drops masked rows,
         docs/MODEL.md §2.1; this is what says the reference agrees)
and in tests/fixtures/model_ref_dropout.smfx, a config with every dropout site on:
  drop   B = 4, L = 9, at dropout step 7.
  dholes the holes masks at dropout step 8.
Dropout masks cannot come from the reference's generator (torch's bernoulli stream; ours
is Philox, keyed so that results do not depend on threads or batch order). For that case
every nn.Dropout of the reference model is replaced by a module multiplying by the mask
libselfmm draws (tools/philox_ref.py restates lib/core/rng.c and lib/nn/dropout.c; it is
checked against them by tests/test_ops_ref.c) times 1/(1-p), which is what nn.Dropout
multiplies by; the rest of the model is still the reference's.
Also writes model_ref.config.json / model_ref_dropout.config.json (libselfmm config
keys) and model_ref.names.txt (the reference's state_dict order).
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import harness_ref  # noqa: E402
import philox_ref  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
SITE_AUDIO_LSTM, SITE_VIDEO_LSTM, SITE_POST = 0xFF00, 0xFF01, 0xFF10


def set_weights(model, seed):
    """Seeded float32 weights, larger than BERT's 0.02 init so that every nonlinearity
    is exercised; LayerNorm weights around 1; the padding row of the word embedding
    nonzero (it must still get no gradient)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if "LayerNorm.weight" in name:
            v = 1.0 + 0.2 * torch.randn(p.shape, generator=g)
        elif name.endswith("bias"):
            v = 0.1 * torch.randn(p.shape, generator=g)
        elif "rnn" in name:
            v = 0.4 * torch.randn(p.shape, generator=g)
        else:
            v = 0.3 * torch.randn(p.shape, generator=g)
        p.data.copy_(v.to(torch.float32).to(p.dtype))


HOLES = [[1, 1, 1, 1, 1, 1, 1, 1, 1],
         [1, 1, 0, 1, 1, 0, 0, 1, 0],
         [0, 1, 1, 1, 0, 0, 0, 0, 0],
         [1, 0, 0, 0, 0, 0, 0, 0, 0]]


def make_case(rng, cfg, B, L, lens, Ta, Tv, masks=None):
    ids = rng.integers(1, cfg["vocab_size"], size=(B, L)).astype(np.int32)
    mask = np.zeros((B, L), dtype=np.int32)
    seg = np.zeros((B, L), dtype=np.int32)
    for b, n in enumerate(lens):
        mask[b, :n] = 1
        seg[b, n // 2:n] = 1          # a second segment in the real part
        ids[b, 0] = 2                 # [CLS]-like
    if masks is not None:             # any 0/1 pattern; segment 1 in the second half
        mask = np.array(masks, dtype=np.int32)
        seg = np.zeros((B, L), dtype=np.int32)
        seg[:, L // 2:] = mask[:, L // 2:]
    # padding keeps nonzero ids and features: they must not influence anything
    audio = rng.uniform(-1, 1, size=(B, Ta, cfg["audio_dim"])).astype(np.float32)
    vision = rng.uniform(-1, 1, size=(B, Tv, cfg["video_dim"])).astype(np.float32)
    alen = rng.integers(1, Ta + 1, size=B).astype(np.int32)
    vlen = rng.integers(1, Tv + 1, size=B).astype(np.int32)
    alen[0], vlen[-1] = Ta, Tv
    yf = rng.uniform(-1, 1, size=B).astype(np.float32)
    labels = np.stack([yf] + [np.clip(yf + rng.uniform(-1.2, 1.2, size=B), -1, 1).astype(np.float32)
                              for _ in range(3)])
    return dict(text_ids=ids, text_mask=mask, text_segment=seg, audio=audio, audio_lengths=alen,
                vision=vision, vision_lengths=vlen, labels=labels)


class MaskDropout(nn.Module):
    """Replaces nn.Dropout: multiplies by a given 0/1 mask and the float32 scale."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        if self.mask is None:
            return x
        assert self.mask.shape == x.shape, (self.mask.shape, x.shape)
        return x * self.mask


def install_masks(model, cfg, case, seed, step):
    """Swap every nn.Dropout for a MaskDropout carrying libselfmm's mask of that site."""
    M = model.Model
    B, L = case["text_mask"].shape
    run = int(max(np.nonzero(row)[0].max() + 1 for row in case["text_mask"]))
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]

    def mask_of(site, per_sample, p, full_shape, place):
        m = np.ones(full_shape, dtype=np.float64)
        if p > 0:
            bits, scale = philox_ref.dropout_mask(B, per_sample, p, seed, step, site)
            place(m, bits.astype(np.float64) * float(scale))
        return torch.from_numpy(m)

    def tokens(site, p):
        def place(m, v):
            m[:, :run, :] = v.reshape(B, run, H)
        return mask_of(site, run * H, p, (B, L, H), place)

    def probs(site, p):
        def place(m, v):
            m[:, :, :run, :run] = v.reshape(B, nh, run, run)
        return mask_of(site, nh * run * run, p, (B, nh, L, L), place)

    def flat(site, p, width):
        def place(m, v):
            m[:] = v.reshape(B, width)
        return mask_of(site, width, p, (B, width), place)

    def swap(parent, attr, mask):
        d = MaskDropout()
        d.mask = mask
        setattr(parent, attr, d)

    bert = M.text_model.model
    ph, pa = cfg["hidden_dropout_prob"], cfg["attention_probs_dropout_prob"]
    swap(bert.embeddings, "dropout", tokens(0, ph))
    for l, layer in enumerate(bert.encoder.layer):
        swap(layer.attention.self, "dropout", probs(1 + 3 * l, pa))
        swap(layer.attention.output, "dropout", tokens(2 + 3 * l, ph))
        swap(layer.output, "dropout", tokens(3 + 3 * l, ph))
    swap(M.audio_model, "dropout", flat(SITE_AUDIO_LSTM, cfg["a_lstm_dropout"], cfg["a_lstm_hidden_size"]))
    swap(M.video_model, "dropout", flat(SITE_VIDEO_LSTM, cfg["v_lstm_dropout"], cfg["v_lstm_hidden_size"]))
    widths = [H + cfg["audio_out"] + cfg["video_out"], H, cfg["audio_out"], cfg["video_out"]]
    for k, name in enumerate(["fusion", "text", "audio", "video"]):
        swap(M, "post_%s_dropout" % name, flat(SITE_POST + k, cfg["post_%s_dropout" % name], widths[k]))


MODES = ["fusion", "text", "audio", "vision"]


def run_case(ref, model, cfg, case, prefix, out, seed=None, step=0, repeat=1):
    """One training forward, the reference trainer's loss, backward; the case's batch is
    fed `repeat` times over (b1) and the first copy's outputs kept."""
    if seed is not None:
        assert repeat == 1
        install_masks(model, cfg, case, seed, step)
    model.zero_grad()
    rep = {k: np.concatenate([v] * repeat, axis=1 if k == "labels" else 0) for k, v in case.items()}
    B0, B = case["text_ids"].shape[0], rep["text_ids"].shape[0]
    text = torch.from_numpy(np.stack([rep["text_ids"], rep["text_mask"], rep["text_segment"]], axis=1)
                            .astype(np.float64))
    audio = torch.from_numpy(rep["audio"].astype(np.float64))
    vision = torch.from_numpy(rep["vision"].astype(np.float64))
    # do_train: outputs = model(text, (audio, audio_lengths), (vision, vision_lengths))
    res = model(text, (audio, torch.from_numpy(rep["audio_lengths"]).long()),
                (vision, torch.from_numpy(rep["vision_lengths"]).long()))
    # the reference trainer's loss, with the case's labels as its label maps
    t = ref.trainer(cfg, B)
    idx = torch.arange(B)
    y = torch.from_numpy(rep["labels"])
    t.init_labels(idx, y[0])
    for k in range(1, 4):
        t.label_map[MODES[k]][idx] = y[k]
    loss, parts = 0.0, []
    for k, m in enumerate("MTAV"):
        part = t.weighted_loss(res[m], t.label_map[MODES[k]][idx], indexes=idx, mode=MODES[k])
        parts.append(part)
        loss += part
    loss.backward()
    for k, v in case.items():
        out[prefix + k] = v
    out[prefix + "step"] = np.array([step], dtype=np.int64)
    for k in "MTAV":
        out[prefix + k] = res[k].detach().view(-1)[:B0].numpy().astype(np.float32)
    for s in "ftav":
        out[prefix + "feature_" + s] = res["Feature_" + s].detach()[:B0].numpy().astype(np.float32)
    out[prefix + "loss"] = np.array([loss.item()] + [p.item() for p in parts], dtype=np.float64)
    for name, p in model.named_parameters():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        out[prefix + "g." + name] = g.detach().numpy().astype(np.float32)


def build(ref, cfg, seed):
    model = ref.model(cfg)
    set_weights(model, seed)
    model = model.double()
    model.train()
    return model


def weights(model):
    return {"w." + n: p.detach().numpy().astype(np.float32) for n, p in model.state_dict().items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("harness", help="the reference harness folder (holds run_thuiar.py)")
    a = ap.parse_args()
    ref = harness_ref.Reference(a.harness)
    # the reference passes its LSTM dropout to nn.LSTM too, which warns at 1 layer (no effect)
    warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last")
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261126)

    # ---- dropout off: exact forward, loss and gradients ------------------------------
    cfg = harness_ref.tiny_config()
    model = build(ref, cfg, 1)
    out = weights(model)
    run_case(ref, model, cfg, make_case(rng, cfg, 4, 9, [9, 5, 3, 7], 7, 5), "b4.", out)
    run_case(ref, model, cfg, make_case(rng, cfg, 1, 8, [6], 6, 4), "b1.", out, repeat=2)
    run_case(ref, model, cfg, make_case(rng, cfg, 3, 12, [4, 6, 2], 9, 6), "short.", out)
    rng2 = np.random.default_rng(20261203)  # its own: the cases above stay as they were
    run_case(ref, model, cfg, make_case(rng2, cfg, 4, 9, [], 7, 5, HOLES), "holes.", out)
    fixture_io.write(os.path.join(OUT, "model_ref.smfx"), out)
    with open(os.path.join(OUT, "model_ref.config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, "model_ref.names.txt"), "w") as f:
        for n in model.state_dict().keys():
            f.write(n + "\n")

    # ---- every dropout site on, with libselfmm's masks --------------------------------
    cfg = harness_ref.tiny_config(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.2,
                                  a_lstm_dropout=0.3, v_lstm_dropout=0.25, post_fusion_dropout=0.15,
                                  post_text_dropout=0.1, post_audio_dropout=0.2, post_video_dropout=0.3,
                                  seed=4242)
    model = build(ref, cfg, 2)
    out = weights(model)
    run_case(ref, model, cfg, make_case(rng, cfg, 4, 9, [9, 5, 3, 7], 7, 5), "drop.", out, seed=cfg["seed"],
             step=7)
    run_case(ref, model, cfg, make_case(rng2, cfg, 4, 9, [], 7, 5, HOLES), "dholes.", out, seed=cfg["seed"],
             step=8)
    fixture_io.write(os.path.join(OUT, "model_ref_dropout.smfx"), out)
    with open(os.path.join(OUT, "model_ref_dropout.config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True)
    for fn in ("model_ref.smfx", "model_ref_dropout.smfx"):
        print(fn, os.path.getsize(os.path.join(OUT, fn)), "bytes")


if __name__ == "__main__":
    main()
