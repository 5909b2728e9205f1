"""philox_ref.py -- libselfmm's dropout masks restated in NumPy, for fixtures.

lib/core/rng.c draws every random number from Philox4x32-10 keyed by
(seed, purpose, step, stream); lib/nn/dropout.c keeps element j of sample b of a
dropout site iff uniform24(j) < 1 - p, with stream = site << 16 | b. This module
computes the same masks so that the PyTorch reference can apply exactly the
dropout the C library applies (tools/gen_model_reference.py).
"""
import numpy as np

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = 0xFFFFFFFF
PURPOSE_DROPOUT = 2


def philox_words(seed, purpose, step, stream, n):
    """The first n 32-bit words of the stream (4 per block, in block order)."""
    nblk = (n + 3) // 4
    c0 = np.arange(nblk, dtype=np.uint64)
    c1 = np.full(nblk, stream & _MASK32, dtype=np.uint64)
    c2 = np.full(nblk, step & _MASK32, dtype=np.uint64)
    c3 = np.full(nblk, ((step >> 32) & 0x0FFFFFFF) | (purpose << 28), dtype=np.uint64)
    k0, k1 = seed & _MASK32, (seed >> 32) & _MASK32
    m32 = np.uint64(_MASK32)
    for _ in range(10):
        p0 = np.uint64(_M0) * c0
        p1 = np.uint64(_M1) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)
        n1 = p1 & m32
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)
        n3 = p0 & m32
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:n]


def dropout_mask(B, per_sample, p, seed, step, site):
    """(B, per_sample) array of 0/1 as sm_dropout_mask, and the float32 scale."""
    q = np.float32(1.0) - np.float32(p)
    thr = np.uint64(np.ceil(q * np.float32(16777216.0)))
    out = np.empty((B, per_sample), dtype=np.uint8)
    for b in range(B):
        w = philox_words(seed, PURPOSE_DROPOUT, step, (site << 16) | b, per_sample)
        out[b] = (w >> np.uint64(8)) < thr
    return out, np.float32(1.0) / q
