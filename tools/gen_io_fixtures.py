#!/usr/bin/python3
"""gen_io_fixtures.py -- fixtures for the file readers and writers (lib/io), made
with the real writers: pickle (protocols 2, 4, 5) of NumPy data, torch.save (zip
and legacy), np.savez, and a small safetensors writer. Expected values go into
SMFX files (tools/fixture_io.py) so that the C tests compare every value.

    /usr/bin/python3 tools/gen_io_fixtures.py        # writes tests/fixtures/io/

Hostile inputs (pickles naming os.system, builtins.eval, ...) are assembled byte
by byte or with __reduce__; this script never unpickles anything it writes.
Values are deterministic (fixed seeds). Bytes are too, except torch's legacy
files (storage keys are memory addresses) and torch's zip files across torch
versions: re-running changes those bytes, never their values.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402
import selfmm_ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "io")
SHARED = os.path.join(ROOT, "tests", "fixtures", "shared", "checkpoints")


def out(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# ---------------------------------------------------------------------------
# MMSA-shaped dataset pickles
# ---------------------------------------------------------------------------
SPLITS = {"train": 5, "valid": 3, "test": 4}
L, TA, DA, TV, DV = 6, 7, 3, 5, 4
TEXTS = ["a happy day", "très bien", "这部电影很好看", "meh", "no way!", "ok ☺", "x", "y z",
         "Ünïcödé", "so-so", "great", "bad"]


def base_split(rng, n, split_index):
    """One split in float64 / int64 (the variants cast from here)."""
    ids = rng.integers(1, 40, size=(n, L)).astype(np.float64)
    tlen = rng.integers(2, L + 1, size=n)
    mask = (np.arange(L)[None, :] < tlen[:, None]).astype(np.float64)
    ids *= mask
    seg = np.zeros((n, L))
    seg[:, L // 2:] = 1 * mask[:, L // 2:]
    audio = rng.normal(size=(n, TA, DA))
    vision = rng.normal(size=(n, TV, DV))
    alen = rng.integers(1, TA + 1, size=n)
    vlen = rng.integers(1, TV + 1, size=n)
    audio[0, TA - 1, DA - 1] = -np.inf          # -inf -> 0 (reference behaviour)
    if n > 2:
        audio[2, 1, 0] = -np.inf
    labels = np.round(rng.uniform(-1, 1, size=n), 1)
    labels[0] = 0.0
    d = {
        "text_bert": np.stack([ids, mask, seg], axis=1),
        "text": rng.normal(size=(n, L, 8)),     # unused by Self-MM: never converted
        "audio": audio,
        "vision": vision,
        "audio_lengths": alen,
        "vision_lengths": vlen,
        "regression_labels": labels,
        "regression_labels_T": np.round(rng.uniform(-1, 1, size=n), 1),
        "regression_labels_A": np.round(rng.uniform(-1, 1, size=n), 1),
        "regression_labels_V": np.round(rng.uniform(-1, 1, size=n), 1),
        "classification_labels": (labels > 0).astype(np.float64) + (labels >= 0),
        "annotations": [["Negative", "Neutral", "Positive"][int(c)] for c in
                        (labels > 0).astype(int) + (labels >= 0)],
        "raw_text": [TEXTS[(split_index * 5 + i) % len(TEXTS)] for i in range(n)],
        "id": ["video_%04d$_$%04d" % (split_index + 1, i + 1) for i in range(n)],
    }
    return d


def base_dataset():
    rng = np.random.default_rng(20261126)
    return {s: base_split(rng, n, i) for i, (s, n) in enumerate(SPLITS.items())}


def variant(base, proto):
    """Cast the base data the way one writer would have stored it."""
    v = {}
    for si, (s, d) in enumerate(base.items()):
        e = {}
        f_text = np.float32 if proto == 4 else np.float64
        e["text_bert"] = d["text_bert"].astype(f_text)
        e["text"] = d["text"].astype(np.float32)
        e["audio"] = d["audio"].astype(np.float32)
        e["vision"] = d["vision"].astype(np.float32 if proto == 4 else np.float64)
        # lengths: NumPy arrays (int64 / int32) or Python lists, per split
        if (si + proto) % 3 == 0:
            e["audio_lengths"] = [int(x) for x in d["audio_lengths"]]
        elif (si + proto) % 3 == 1:
            e["audio_lengths"] = d["audio_lengths"].astype(np.int64)
        else:
            e["audio_lengths"] = d["audio_lengths"].astype(np.int32)
        e["vision_lengths"] = ([int(x) for x in d["vision_lengths"]] if si == 0
                               else d["vision_lengths"].astype(np.int64))
        lab_t = np.float32 if proto != 2 else np.float64
        e["regression_labels"] = d["regression_labels"].astype(lab_t)
        if proto != 4:  # SIMS-like: human unimodal labels
            for m in "TAV":
                e["regression_labels_" + m] = d["regression_labels_" + m].astype(lab_t)
        e["classification_labels"] = d["classification_labels"].astype(np.float32)
        e["annotations"] = np.array(d["annotations"], dtype=object)
        # strings: object arrays or '<U' arrays
        e["raw_text"] = np.array(d["raw_text"], dtype=object if proto != 5 else None)
        e["id"] = np.array(d["id"], dtype=object if proto != 4 else None)
        v[s] = e
    if proto == 4:
        v["config"] = {"feature_T": "bert", "seq_lens": [L, TA, TV], "scale": 1.5, "flag": True,
                       "nothing": None, "nested": {"a": (1, 2)}}
    return v


def expected_dataset(base, path):
    t = collections.OrderedDict()
    lines = []
    for s, d in base.items():
        a = d["audio"].astype(np.float32)
        a[np.isneginf(a)] = 0
        t[s + "/text_bert"] = d["text_bert"].astype(np.int32)
        t[s + "/audio"] = a
        t[s + "/vision"] = d["vision"].astype(np.float32)
        t[s + "/audio_lengths"] = d["audio_lengths"].astype(np.int32)
        t[s + "/vision_lengths"] = d["vision_lengths"].astype(np.int32)
        t[s + "/regression_labels"] = d["regression_labels"].astype(np.float32)
        for m in "TAV":
            t[s + "/regression_labels_" + m] = d["regression_labels_" + m].astype(np.float32)
        t[s + "/classification_labels"] = d["classification_labels"].astype(np.float32)
        for field in ("id", "raw_text", "annotations"):
            for i, x in enumerate(d[field]):
                lines.append("%s\t%s\t%d\t%s" % (s, field, i, x))
    fixture_io.write(path + ".smfx", t)
    with open(path + "_strings.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_pickle(path, obj, proto, **kw):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=proto, **kw)


def gen_datasets():
    base = base_dataset()
    expected_dataset(base, out("mmsa_expected"))
    for proto in (2, 4, 5):
        write_pickle(out("mmsa_p%d.pkl" % proto), variant(base, proto), proto)

    # NaN in vision (train sample 2, step 1, feature 3 and sample 4, step 0, feature 0)
    v = variant(base, 4)
    v["train"]["vision"][2, 1, 3] = np.nan
    v["train"]["vision"][4, 0, 0] = np.nan
    v["valid"]["audio"][1, 2, 1] = np.inf      # +inf: bad like NaN
    write_pickle(out("mmsa_nan.pkl"), v, 4)

    # lengths out of [1, T]
    v = variant(base, 4)
    v["valid"]["audio_lengths"] = [0, TA + 1, 3]
    write_pickle(out("mmsa_badlen.pkl"), v, 4)

    # fields of one split disagree on N
    v = variant(base, 4)
    v["test"]["vision"] = v["test"]["vision"][:3]
    write_pickle(out("mmsa_mismatch.pkl"), v, 4)

    # text_bert not (N, 3, L)
    v = variant(base, 4)
    v["valid"]["text_bert"] = v["valid"]["text_bert"][:, :2, :]
    write_pickle(out("mmsa_textbert_shape.pkl"), v, 4)

    # a missing split
    v = variant(base, 4)
    del v["test"]
    write_pickle(out("mmsa_no_test.pkl"), v, 4)

    # Fortran-ordered audio (refused with a clear message)
    v = variant(base, 4)
    v["train"]["audio"] = np.asfortranarray(v["train"]["audio"])
    write_pickle(out("mmsa_fortran.pkl"), v, 4)

    # wrong element types: strings where features belong, fractional lengths
    v = variant(base, 4)
    v["train"]["vision"] = v["train"]["vision"].astype(str)
    write_pickle(out("mmsa_strfeatures.pkl"), v, 4)
    v = variant(base, 4)
    v["valid"]["vision_lengths"] = np.array([1.0, 2.5, 3.0])
    write_pickle(out("mmsa_fraclen.pkl"), v, 4)

    # big-endian arrays (byte-swapped on load)
    v = variant(base, 4)
    for s in SPLITS:
        v[s]["audio"] = v[s]["audio"].astype(">f4")
        v[s]["vision"] = v[s]["vision"].astype(">f8")
        v[s]["text_bert"] = v[s]["text_bert"].astype(">i8")
        v[s]["id"] = v[s]["id"].astype(">U17")
    write_pickle(out("mmsa_bigendian.pkl"), v, 4)

    # protocol 5 with an out-of-band buffer: the data is not in the file
    v = variant(base, 5)
    write_pickle(out("mmsa_oob.pkl"), v, 5, buffer_callback=lambda b: False)

    # .npz written by NumPy with libselfmm's member layout (stored and deflated)
    arrays = {}
    for s, d in variant(base, 5).items():
        for k, a in d.items():
            if k == "text":
                continue
            a = np.asarray(a)
            if a.dtype == object:
                a = a.astype(str)  # '<U'
            arrays["%s/%s" % (s, k)] = a
    np.savez(out("mmsa_numpy.npz"), **arrays)
    np.savez_compressed(out("mmsa_numpy_compressed.npz"), **arrays)
    return base


# ---------------------------------------------------------------------------
# Hostile pickles (assembled by hand; never unpickled here)
# ---------------------------------------------------------------------------
def binunicode(s):
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


class _Reduce:
    """Pickles as a call of fn(*args): how a malicious file embeds os.system."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def gen_vm():
    """Scalars and plain values as the pickler writes them, for the VM test."""
    obj = {"f": np.float64(1.5), "i": np.int64(-7), "b": np.bool_(True), "f32": np.float32(0.25),
           "big": 2 ** 70, "neg": -2 ** 40, "s": "h\u00e9llo", "by": b"\x00\xff", "t": (1, None, False),
           "l": [1.0, -2.5], "od": collections.OrderedDict(a=1)}
    for proto in (2, 4, 5):
        write_pickle(out("vm_values_p%d.pkl" % proto), obj, proto)


def gen_hostile():
    cmd = binunicode("touch /tmp/selfmm-pwned")
    files = {
        # protocol 2, GLOBAL opcodes
        "evil_os_system.pkl": b"\x80\x02cos\nsystem\n" + cmd + b"\x85R.",
        "evil_posix_system.pkl": b"\x80\x02cposix\nsystem\n" + cmd + b"\x85R.",
        "evil_subprocess.pkl": b"\x80\x02csubprocess\nPopen\n" + cmd + b"\x85R.",
        # protocol 4, STACK_GLOBAL
        "evil_builtins_eval.pkl": (b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93"
                                   + binunicode("__import__('os').system('true')") + b"\x85R."),
        # a torch global inside a data pickle (allowed only in checkpoints)
        "evil_torch_in_data.pkl": b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n).",
    }
    for name, data in files.items():
        with open(out(name), "wb") as f:
            f.write(data)
    # An MMSA-shaped dict whose `config` value is an os.system call, written by
    # the real pickler through __reduce__ (pickling calls nothing).
    v = variant(base_dataset(), 4)
    v["config"] = _Reduce(os.system, ("touch /tmp/selfmm-pwned",))
    write_pickle(out("evil_nested.pkl"), v, 4)


# ---------------------------------------------------------------------------
# BERT checkpoints
# ---------------------------------------------------------------------------
def tiny_bert_config():
    c = selfmm_ref.tiny_config()
    keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "intermediate_size", "max_position_embeddings", "type_vocab_size",
            "layer_norm_eps", "hidden_dropout_prob", "attention_probs_dropout_prob",
            "initializer_range")
    hf = {k: c[k] for k in keys}
    hf.update({"model_type": "bert", "hidden_act": "gelu", "architectures": ["BertForMaskedLM"]})
    return c, hf


def tiny_bert_state(seed):
    torch.manual_seed(seed)
    c, _ = tiny_bert_config()
    m = selfmm_ref.BertModel(c)
    with torch.no_grad():  # make LayerNorm/bias values non-trivial
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return collections.OrderedDict((k, v.detach().clone()) for k, v in m.state_dict().items())


def gamma_beta(k):
    if ".LayerNorm." in k:
        return k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return k


MODEL_BERT = "Model.text_model.model."


def expected_bert(sd, path, cast=None):
    """Values as libselfmm's model should hold them after loading (by model name)."""
    t = collections.OrderedDict()
    for k, v in sd.items():
        x = v if cast is None else v.to(cast)
        t[MODEL_BERT + k] = x.to(torch.float32)
    fixture_io.write(path, t)


def write_hf_folder(folder, hf_cfg, weights_name, writer):
    os.makedirs(out(folder), exist_ok=True)
    with open(out(folder, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2)
    writer(out(folder, weights_name))


def safetensors_bytes(tensors, metadata=None):
    """A minimal safetensors writer: 8-byte header length, JSON header, data."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.float64: "F64", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k, v in tensors.items():
        v = v.contiguous()
        raw = v.view(torch.int16).numpy().tobytes() if v.dtype == torch.bfloat16 else v.numpy().tobytes()
        header[k] = {"dtype": names[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_safetensors(path):
    """The 20-line reader the brief asks for (used to check what we write)."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop("__metadata__", {})
    dt = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}
    res = collections.OrderedDict()
    for k, e in header.items():
        lo, hi = e["data_offsets"]
        raw = b[8 + n + lo:8 + n + hi]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dt[e["dtype"]])
        res[k] = a.reshape(e["shape"])
    return res, meta


def gen_bert():
    c, hf = tiny_bert_config()
    sd = tiny_bert_state(7)

    # 1. torch zip, the real bert-base-uncased naming: `bert.` prefix, gamma/beta,
    #    position_ids buffer, pooler, an MLM head whose decoder is tied to the word
    #    embeddings (shared storage).
    z = collections.OrderedDict()
    z["bert.embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    for k, v in sd.items():
        z["bert." + gamma_beta(k)] = v
    z["cls.predictions.bias"] = torch.zeros(c["vocab_size"])
    z["cls.predictions.decoder.weight"] = z["bert.embeddings.word_embeddings.weight"]
    z["cls.seq_relationship.weight"] = torch.randn(2, c["hidden_size"])
    write_hf_folder("bert_zip", hf, "pytorch_model.bin", lambda p: torch.save(z, p))
    expected_bert(sd, out("bert_zip.expected.smfx"))

    # 2. legacy serialization, no prefix, float64 storages, no pooler
    sd2 = tiny_bert_state(8)
    leg = collections.OrderedDict((k, v.double()) for k, v in sd2.items() if "pooler" not in k)
    write_hf_folder("bert_legacy", hf, "pytorch_model.bin",
                    lambda p: torch.save(leg, p, _use_new_zipfile_serialization=False))
    expected_bert(collections.OrderedDict((k, v) for k, v in leg.items()), out("bert_legacy.expected.smfx"))

    # 3. float16, one zip file (no folder), prefix
    sd3 = tiny_bert_state(9)
    torch.save(collections.OrderedDict(("bert." + k, v.half()) for k, v in sd3.items()),
               out("bert_f16.bin"))
    expected_bert(sd3, out("bert_f16.expected.smfx"), torch.float16)

    # 4. bfloat16 safetensors in a folder with gamma/beta names, no prefix
    sd4 = tiny_bert_state(10)
    st = collections.OrderedDict((gamma_beta(k), v.bfloat16()) for k, v in sd4.items())
    write_hf_folder("bert_safetensors", hf, "model.safetensors",
                    lambda p: open(p, "wb").write(safetensors_bytes(st, {"format": "pt"})))
    expected_bert(sd4, out("bert_safetensors.expected.smfx"), torch.bfloat16)

    # 5. a folder whose config.json disagrees with the tiny model
    bad = dict(hf, num_attention_heads=2, intermediate_size=32)
    write_hf_folder("bert_badconfig", bad, "pytorch_model.bin", lambda p: torch.save(z, p))

    # 6. shapes that do not fit (intermediate 32) without a config.json
    c6 = dict(c, intermediate_size=32)
    torch.manual_seed(11)
    m6 = selfmm_ref.BertModel(c6)
    torch.save(m6.state_dict(), out("bert_wrongshape.bin"))

    # 6b. an integer tensor where a weight belongs
    sdi = collections.OrderedDict(sd)
    sdi["pooler.dense.weight"] = torch.ones(c["hidden_size"], c["hidden_size"], dtype=torch.int64)
    torch.save(sdi, out("bert_int.bin"))

    # 7. odd storages for the tensor-list reader: views sharing one storage with
    #    offsets, a transposed (non-contiguous) tensor, a 0-dim and an empty tensor
    base = torch.arange(24, dtype=torch.float32) * 0.5
    odd = collections.OrderedDict()
    odd["first"] = base[0:6].view(2, 3)
    odd["second"] = base[6:18].view(3, 4)
    odd["transposed"] = base[6:18].view(3, 4).t()
    odd["scalar"] = torch.tensor(3.25)
    odd["empty"] = torch.zeros(0, 5)
    odd["half"] = torch.tensor([1.5, -2.0, 65504.0, 6e-8], dtype=torch.float16)
    odd["long"] = torch.tensor([1, -2, 3], dtype=torch.int64)
    torch.save(odd, out("odd_storage.pth"))
    torch.save(odd, out("odd_storage_legacy.pth"), _use_new_zipfile_serialization=False)
    fixture_io.write(out("odd_storage.expected.smfx"),
                     collections.OrderedDict((k, v.float()) for k, v in odd.items()))


# ---------------------------------------------------------------------------
# Reference Self-MM state_dicts
# ---------------------------------------------------------------------------
def gen_selfmm():
    c = selfmm_ref.tiny_config()
    with open(out("selfmm_tiny_config.json"), "w") as f:
        json.dump(c, f, indent=2)
    torch.manual_seed(1234)
    m = selfmm_ref.AMIO(c)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    sd = m.state_dict()
    torch.save(sd, out("selfmm_tiny.pth"))
    torch.save(sd, out("selfmm_tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    # transformers >= 3 adds a position_ids buffer: tolerated and reported
    sd2 = collections.OrderedDict(sd)
    sd2[MODEL_BERT + "embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    torch.save(sd2, out("selfmm_tiny_posids.pth"))
    # one tensor missing
    sd3 = collections.OrderedDict((k, v) for k, v in sd.items() if "post_audio_layer_2.bias" not in k)
    torch.save(sd3, out("selfmm_tiny_missing.pth"))
    fixture_io.write(out("selfmm_tiny.expected.smfx"),
                     collections.OrderedDict((k, v.float()) for k, v in sd.items()))


# ---------------------------------------------------------------------------
# A training checkpoint wrapping its state_dict, with tensors outside it
# ---------------------------------------------------------------------------
def gen_wrapped():
    sd = collections.OrderedDict()
    sd["w"] = torch.arange(6, dtype=torch.float32).view(2, 3) * 0.25
    sd["b"] = torch.tensor([0.5, -1.0])
    ckpt = {"epoch": 3, "state_dict": sd,
            "optimizer": {"state": {0: {"step": 5, "exp_avg": torch.full((3,), 2.0, dtype=torch.float64)}},
                          "param_groups": [{"lr": 1e-3, "params": [0, 1]}]}}
    torch.save(ckpt, out("wrapped.pth"))
    torch.save(ckpt, out("wrapped_legacy.pth"), _use_new_zipfile_serialization=False)


# ---------------------------------------------------------------------------
# The third-party checkpoints in tests/fixtures/shared: names, shapes, values
# ---------------------------------------------------------------------------
def gen_real():
    for name, weights in (("camphr_ner_bert", "pytorch_model.bin"),
                          ("camphr_bert_2019", "pytorch_model.bin"),
                          ("coldfire_tiny_bert_safetensors", "model.safetensors")):
        path = os.path.join(SHARED, name, weights)
        if weights.endswith(".safetensors"):
            sd, _ = read_safetensors(path)
            sd = collections.OrderedDict((k, torch.from_numpy(v.copy())) for k, v in sd.items())
        else:
            sd = torch.load(path, map_location="cpu")
        lines, t = [], collections.OrderedDict()
        for k, v in sd.items():
            lines.append("%s\t%s\t%s" % (k, str(v.dtype).replace("torch.", ""),
                                         ",".join(str(d) for d in v.shape)))
            if v.dtype.is_floating_point:
                # 1-D tensors whole, the first rows of larger ones
                t[k] = v.float() if v.dim() <= 1 else v[:3].float()
        with open(out("real_%s.tensors.txt" % name), "w") as f:
            f.write("\n".join(lines) + "\n")
        fixture_io.write(out("real_%s.expected.smfx" % name), t)


def gen_zip_bombs():
    # A deflated .npy member whose central directory claims 4 GB for 10 kB of data.
    arr = np.zeros(2_500_000, dtype=np.float32)   # 10 MB of zeros
    buf = io.BytesIO()
    np.save(buf, arr)
    raw = buf.getvalue()
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("train/text_bert.npy", date_time=(2020, 1, 1, 0, 0, 0)), raw,
                   compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(zb.getvalue())
    # patch the uncompressed size in the local header (offset 22) and the central
    # directory entry (offset 24 after its signature)
    struct.pack_into("<I", data, 22, 0xFFFFFFF0)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xFFFFFFF0)
    with open(out("bomb_declared.npz"), "wb") as f:
        f.write(data)
    # An honest member whose npy header declares far more elements than it holds.
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
    hdr += b" " * (-(len(hdr) + 11) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\0" * 64
    with zipfile.ZipFile(out("bomb_npyheader.npz"), "w") as z:
        z.writestr(zipfile.ZipInfo("train/text_bert.npy", date_time=(2020, 1, 1, 0, 0, 0)), npy)


def main():
    os.makedirs(OUT, exist_ok=True)
    gen_datasets()
    gen_vm()
    gen_hostile()
    gen_bert()
    gen_selfmm()
    gen_wrapped()
    gen_real()
    gen_zip_bombs()
    total = 0
    for dirpath, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    print("wrote %s (%d files, %d bytes)" % (OUT, sum(len(f) for _, _, f in os.walk(OUT)), total))


if __name__ == "__main__":
    main()
