#!/usr/bin/python3
"""gen_ops_reference.py -- per-op reference values for tests/test_ops_ref.c.

Every layer of lib/nn/ops.h, attention.h and lstm.h computed by PyTorch in float64
on float32-representable inputs: outputs and the gradients for a given output
gradient `dout`. Names: "<op>.<tensor>". Also a few Philox words of
tools/philox_ref.py, which tests/test_ops_ref.c checks against lib/core/rng.c so
that the dropout masks of the model fixture are known to be libselfmm's.

Run: /usr/bin/python3 tools/gen_ops_reference.py   (writes tests/fixtures/ops_ref.smfx)
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import philox_ref  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "ops_ref.smfx")
rng = np.random.default_rng(7)


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def t(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def put(out, prefix, **kw):
    for k, v in kw.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().numpy()
        a = np.asarray(v)
        out[prefix + "." + k] = a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.int32)


def linear(out):
    x, w, b, d = f32(5, 7), f32(4, 7), f32(4), f32(5, 4)
    X, W, Bb = t(x), t(w), t(b)
    y = F.linear(X, W, Bb)
    y.backward(t(d, False))
    put(out, "linear", x=x, w=w, b=b, dout=d, y=y, dx=X.grad, dw=W.grad, db=Bb.grad)


def layernorm(out):
    for name, eps in (("layernorm", 1e-12), ("layernorm_eps", 1e-5)):
        x = f32(6, 10) * 3 + 0.5
        w, b, d = f32(10) + 1, f32(10), f32(6, 10)
        X, W, Bb = t(x), t(w), t(b)
        y = F.layer_norm(X, (10,), W, Bb, eps)
        y.backward(t(d, False))
        put(out, name, x=x, w=w, b=b, dout=d, y=y, dx=X.grad, dw=W.grad, db=Bb.grad,
            eps=np.array([eps], dtype=np.float32))


def residual_layernorm(out):
    N, C, p = 6, 12, 0.25
    inp, bias, res, w, b, d = f32(N, C), f32(C), f32(N, C), f32(C) + 1, f32(C), f32(N, C)
    mask = (rng.uniform(size=(N, C)) > p).astype(np.int32)
    scale = np.float32(1) / (np.float32(1) - np.float32(p))
    I, R, W, Bb = t(inp), t(res), t(w), t(b)
    s = R + (I + t(bias, False)) * t(mask * float(scale), False)
    y = F.layer_norm(s, (C,), W, Bb, 1e-12)
    y.backward(t(d, False))
    put(out, "resln", inp=inp, bias=bias, res=res, w=w, b=b, mask=mask, p=np.array([p], np.float32),
        dout=d, y=y, dinp=I.grad, dres=R.grad, dw=W.grad, db=Bb.grad)


def gelu(out):
    x = np.concatenate([np.linspace(-9, 9, 73), f32(40, lo=-3, hi=3).ravel()]).astype(np.float32)
    d = f32(x.size)
    X = t(x)
    y = X * 0.5 * (1.0 + torch.erf(X / math.sqrt(2.0)))
    y.backward(t(d, False))
    put(out, "gelu", x=x, dout=d, y=y, dx=X.grad)
    pre, bias, dg = f32(4, 9, lo=-3, hi=3), f32(9), f32(4, 9)
    P = t(pre)
    u = P + t(bias, False)
    g = u * 0.5 * (1.0 + torch.erf(u / math.sqrt(2.0)))
    g.backward(t(dg, False))
    put(out, "bias_gelu", pre=pre, bias=bias, dout=dg, y=g, u=u, dpre=P.grad)


def softmax(out):
    x, d = f32(5, 7, lo=-4, hi=4), f32(5, 7)
    X = t(x)
    y = torch.softmax(X, -1)
    y.backward(t(d, False))
    put(out, "softmax", x=x, dout=d, y=y, dx=X.grad)
    B, R, C, div = 2, 3, 6, 2.0
    s, d = f32(B * R, C, lo=-6, hi=6), f32(B * R, C)
    mask = np.ones((B, C), np.float32)
    mask[1, 4:] = 0
    S = t(s)
    z = S.view(B, R, C) / div + t((1.0 - mask) * -10000.0, False).view(B, 1, C)
    y = torch.softmax(z, -1).view(B * R, C)
    y.backward(t(d, False))
    put(out, "smsoftmax", scores=s, maskbias=(1.0 - mask) * -10000.0, div=np.array([div], np.float32),
        dout=d, y=y, dscores=S.grad)


def attention(out):
    for name, p in (("attn", 0.0), ("attn_drop", 0.3)):
        B, L, nh, hd = 3, 5, 2, 4
        H = nh * hd
        q, k, v, d = f32(B, L, H), f32(B, L, H), f32(B, L, H), f32(B, L, H)
        mask = np.ones((B, L), np.float32)
        mask[1, 3:] = 0
        mask[2, 1:] = 0
        dm = (rng.uniform(size=(B, nh, L, L)) > p).astype(np.int32)
        scale = float(np.float32(1) / (np.float32(1) - np.float32(p)))
        Q, K, V = t(q), t(k), t(v)

        def heads(x):
            return x.view(B, L, nh, hd).permute(0, 2, 1, 3)

        sc = torch.matmul(heads(Q), heads(K).transpose(-1, -2)) / math.sqrt(hd)
        sc = sc + t((1.0 - mask) * -10000.0, False)[:, None, None, :]
        probs = torch.softmax(sc, -1)
        pd = probs * t(dm * scale, False) if p > 0 else probs
        ctx = torch.matmul(pd, heads(V)).permute(0, 2, 1, 3).reshape(B, L, H)
        ctx.backward(t(d, False))
        put(out, name, q=q, k=k, v=v, mask=mask, dmask=dm, p=np.array([p], np.float32),
            dims=np.array([B, L, nh, hd], np.int32), dout=d, ctx=ctx, probs=probs,
            dq=Q.grad, dk=K.grad, dv=V.grad)


def embedding(out):
    V, P, T, H, B, L, ld = 9, 8, 2, 5, 3, 6, 7
    ids = rng.integers(0, V, size=(B, ld)).astype(np.int32)
    ids[0, 2] = ids[1, 5] = ids[2, 0] = 0   # the padding index, forward uses the row anyway
    ids[1, 1] = ids[2, 3] = ids[0, 4]         # a shared row
    segs = rng.integers(0, T, size=(B, ld)).astype(np.int32)
    word, pos, typ, d = f32(V, H), f32(P, H), f32(T, H), f32(B, L, H)
    Wd, Ps, Ty = t(word), t(pos), t(typ)
    idl = torch.from_numpy(ids[:, :L].astype(np.int64))
    sgl = torch.from_numpy(segs[:, :L].astype(np.int64))
    y = F.embedding(idl, Wd, padding_idx=0) + F.embedding(torch.arange(L)[None, :].expand(B, L), Ps) \
        + F.embedding(sgl, Ty)
    y.backward(t(d, False))
    put(out, "emb", ids=ids, segs=segs, word=word, pos=pos, type=typ, dims=np.array([B, L, ld], np.int32),
        dout=d, y=y, dword=Wd.grad, dpos=Ps.grad, dtype=Ty.grad)


def lstm(out):
    B, T, C, H = 4, 6, 5, 3
    x, d = f32(B, T, C), f32(B, H)
    lens = np.array([6, 2, 4, 1], np.int32)
    x[1, 2:] = 50.0   # padding after the length: must not matter
    wih, whh, bih, bhh = f32(4 * H, C) * 0.8, f32(4 * H, H) * 0.8, f32(4 * H) * 0.5, f32(4 * H) * 0.5
    rnn = torch.nn.LSTM(C, H, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(wih))
        rnn.weight_hh_l0.copy_(torch.from_numpy(whh))
        rnn.bias_ih_l0.copy_(torch.from_numpy(bih))
        rnn.bias_hh_l0.copy_(torch.from_numpy(bhh))
    X = t(x)
    packed = pack_padded_sequence(X, torch.from_numpy(lens).long(), batch_first=True, enforce_sorted=False)
    _, (h, _) = rnn(packed)
    h = h.squeeze(0)
    h.backward(t(d, False))
    put(out, "lstm", x=x, lens=lens, w_ih=wih, w_hh=whh, b_ih=bih, b_hh=bhh, dout=d, h=h, dx=X.grad,
        dw_ih=rnn.weight_ih_l0.grad, dw_hh=rnn.weight_hh_l0.grad, db_ih=rnn.bias_ih_l0.grad,
        db_hh=rnn.bias_hh_l0.grad)


def small_ops(out):
    x, d = f32(30, lo=-2, hi=2), f32(30)
    X = t(x)
    y = F.relu(X)
    y.backward(t(d, False))
    put(out, "relu", x=x, dout=d, y=y, dx=X.grad)
    pred, y_, yf = f32(7), f32(7), f32(7)
    for name, fusion in (("l1_fusion", True), ("l1_weighted", False)):
        P = t(pred)
        w = torch.ones(7, dtype=torch.float64) if fusion else torch.tanh(torch.abs(t(y_, False) - t(yf, False)))
        loss = torch.mean(w * torch.abs(P - t(y_, False)))
        loss.backward()
        put(out, name, pred=pred, y=y_, yf=yf, w=w, loss=np.array([loss.item()]), dpred=P.grad)


def philox(out):
    for i, (seed, step, stream) in enumerate(((1111, 0, 5), (2**40 + 3, 2**33 + 9, 0xFF10 << 16 | 3))):
        w = philox_ref.philox_words(seed, philox_ref.PURPOSE_DROPOUT, step, stream, 10)
        out["philox%d.key" % i] = np.array([seed, step, stream], dtype=np.int64)
        out["philox%d.words" % i] = w.astype(np.int64)


def main():
    out = {}
    for f in (linear, layernorm, residual_layernorm, gelu, softmax, attention, embedding, lstm, small_ops,
              philox):
        f(out)
    fixture_io.write(OUT, out)
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
