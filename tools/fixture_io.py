"""fixture_io.py -- writer of SMFX fixture files (read by tests/support/fixture.c).

Layout: b"SMFX1\\0\\0\\0", u32 count, then per tensor: u16 name length, name (UTF-8),
u8 dtype (0 f32, 1 f64, 2 i64, 3 i32), u8 ndim, i64 dims[ndim], raw little-endian data.
Accepts NumPy arrays and torch tensors (converted with .detach().cpu().numpy()).
"""
import struct

import numpy as np

_CODES = {np.dtype("<f4"): 0, np.dtype("<f8"): 1, np.dtype("<i8"): 2, np.dtype("<i4"): 3}


def _as_array(v):
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    a = np.asarray(v)
    if a.dtype == np.bool_:
        a = a.astype("<i4")
    if a.dtype.kind == "f" and a.dtype.itemsize not in (4, 8):
        a = a.astype("<f4")
    if a.dtype.kind in "iu" and a.dtype.itemsize != 8 and a.dtype != np.dtype("<i4"):
        a = a.astype("<i8")
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))


def write(path, tensors):
    """tensors: dict name -> array-like (insertion order is kept)."""
    with open(path, "wb") as f:
        f.write(b"SMFX1\0\0\0")
        f.write(struct.pack("<I", len(tensors)))
        for name, v in tensors.items():
            a = _as_array(v)
            code = _CODES[a.dtype]
            nb = name.encode("utf-8")
            f.write(struct.pack("<H", len(nb)))
            f.write(nb)
            f.write(struct.pack("<BB", code, a.ndim))
            for d in a.shape:
                f.write(struct.pack("<q", d))
            f.write(a.tobytes())
