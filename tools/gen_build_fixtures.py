#!/usr/bin/python3
"""gen_build_fixtures.py -- a small "own data" folder for selfmm_dataset_build and
`selfmm-cli build-dataset`, and what the build must produce from it.

    /usr/bin/python3 tools/gen_build_fixtures.py     # writes tests/fixtures/build/

The folder is what a user brings: MMSA's label.csv (with a BOM, CRLF and LF line
ends, blank lines, quoted fields holding commas, quotes and line breaks, columns in
another order than MMSA's, an extra column) and per-clip features in
audio/<video_id>/<clip_id>.npy|.csv and vision/... in every form the reader
accepts (.npy float32, float64, big-endian, Fortran order; CSV with and without a
header, quoted and spaced numbers).

The expected dataset is computed the way MMSA-FET (thuiar/MMSA-FET,
src/MSA_FET/dataset.py) does it: label.csv read with pandas.read_csv (its
dtype={video_id, clip_id, text: str}), sequences padded by its paddingSequence
rule (padded length int(np.mean(l) + 3 * np.std(l)), zeros at the end, longer ones
cut, lengths capped), rows split by mode in file order. Text lengths need the
tokenizer of the tiny BERT (tests/fixtures/shared/checkpoints/
coldfire_tiny_bert_safetensors: tokens t5..t255, no lower-casing); the texts here
use only ASCII words and punctuation, for which BERT's BasicTokenizer gives one
token per run of letters/digits and one per punctuation mark, so the count is
computed with a regular expression (and the C test checks it against the
tokenizer). Normalised features follow lib/data/norm.h: mean and population std in
float64 over the training split's real steps, stored as float32, then
(x - mean) / std in float32.

Writes expected.smfx (tools/fixture_io.py) and expected_strings.json. Needs
python3-numpy and python3-pandas (Debian).
"""
import json
import os
import re
import shutil
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "build")
DA, DV = 5, 7
SPLITS = ["train", "valid", "test"]

rng = np.random.default_rng(20261127)


def tok_count(text):
    assert all(ord(ch) < 128 for ch in text), text
    return len(re.findall(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]", text))


def words(n):
    return " ".join("t%d" % rng.integers(5, 256) for _ in range(n))


# ---- the rows: (video_id, clip_id, text, label, T, A, V, annotation, mode, speaker) ----
rows = []
special = {
    1: 'he said ""t7"" and t8, t9',            # quotes inside a quoted field
    3: "t17 t42, t99\nsecond line t5",          # comma and LF inside quotes
    6: "t30 t31\r\nt32 t33!",                   # CRLF inside quotes
    9: words(40),                                # long: cut by the auto length
    13: "t12 t40 t33",                           # the sample predicted in the CLI test
}
modes = ["train", "train", "valid", "train", "test", "train", "train", "valid", "train", "test",
         "train", "train", "valid", "test", "train", "train", "test", "valid", "train", "train",
         "test", "valid", "train", "train"]
assert [modes.count(m) for m in SPLITS] == [14, 5, 5] and modes[13] == "test"
videos = ["vidA", "vid_B", "v-3"]
for i in range(24):
    video = videos[i % 3]
    clip = "%04d" % (i + 1) if i % 2 == 0 else str(i + 1)
    text = special.get(i, words(int(rng.integers(3, 12))))
    label = round(float(rng.uniform(-1, 1)), 1)
    tav = [round(float(rng.uniform(-1, 1)), 1) for _ in range(3)]
    ann = ["Negative", "Neutral", "Positive"][int(np.sign(label)) + 1]
    rows.append(dict(video=video, clip=clip, text=text, label=label, tav=tav, ann=ann, mode=modes[i]))


def q(s):
    return '"' + s.replace('"', '""') + '"'


# ---- label.csv, written by hand to control every byte ----
header = "clip_id,video_id,label,text,mode,label_A,label_T,label_V,annotation,speaker"
lines = []
for i, r in enumerate(rows):
    text = r["text"]
    if i == 1:
        text_cell = '"' + text + '"'              # already holds doubled quotes
    elif any(ch in text for ch in ',"\r\n') or i % 4 == 0:
        text_cell = q(text)
    else:
        text_cell = text
    label = {0: " %s " % r["label"], 5: "%.0e" % r["label"] if r["label"] else "0"}.get(i, str(r["label"]))
    video = " %s" % r["video"] if i == 7 else r["video"]    # spaces around ids are ignored
    fields = [q(r["clip"]) if i % 5 == 0 else r["clip"], video, label, text_cell, r["mode"],
              str(r["tav"][1]), str(r["tav"][0]), str(r["tav"][2]),
              q(r["ann"]) if i % 3 == 0 else r["ann"], q("spk, %d" % i) if i % 2 else "s%d" % i]
    lines.append(",".join(fields))
if rows[1]["text"] != rows[1]["text"].replace('""', '"'):
    rows[1]["text"] = rows[1]["text"].replace('""', '"')   # what the field holds once parsed
body = "\ufeff" + header + "\r\n"
for i, ln in enumerate(lines):
    body += ln + ("\r\n" if i % 2 else "\n")
    if i == 10:
        body += "\n   \r\n"                         # blank lines are skipped
if os.path.isdir(OUT):
    shutil.rmtree(OUT)
os.makedirs(OUT)
with open(os.path.join(OUT, "label.csv"), "w", encoding="utf-8", newline="") as f:
    f.write(body)

# label 5 was written as "%.0e": the value read back is that text's value
rows[5]["label"] = float(("%.0e" % rows[5]["label"]) if rows[5]["label"] else "0")

# ---- features ----
forms = ["f4", "f8", ">f4", "fortran", "csv", "csv_header", "csv_quoted"]
audio_w = rng.normal(size=DA) * 3 + 10          # offsets and scales: normalisation matters
vision_w = rng.normal(size=DV) * 0.5 - 2
raw = {}


def write_features(kind, r, i, D, T, scale, offset):
    x64 = rng.normal(size=(T, D)) * scale + offset
    form = forms[(i + (3 if kind == "vision" else 0)) % len(forms)]
    d = os.path.join(OUT, kind, r["video"])
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, r["clip"])
    if form == "f8":
        np.save(base + ".npy", x64)
        x = x64.astype(np.float32)
    elif form in ("f4", ">f4", "fortran"):
        x = x64.astype(np.float32)
        if form == ">f4":
            np.save(base + ".npy", x.astype(">f4"))
        elif form == "fortran":
            np.save(base + ".npy", np.asfortranarray(x))
        else:
            np.save(base + ".npy", x)
    else:
        x = x64.astype(np.float32)
        with open(base + ".csv", "w", newline="") as f:
            if form == "csv_header":
                f.write(",".join("f%d" % k for k in range(D)) + "\r\n")
            for t in range(T):
                cells = ["%.9g" % v for v in x[t]]
                if form == "csv_quoted":
                    cells = ['"%s" ' % c if k % 2 else " %s " % c for k, c in enumerate(cells)]
                f.write(",".join(cells) + "\n")
    raw["%s/%s/%s" % (kind, r["video"], r["clip"])] = x
    return x


for i, r in enumerate(rows):
    Ta = 40 if i == 4 else int(rng.integers(3, 21))
    Tv = 30 if i == 11 else int(rng.integers(2, 13))
    r["audio"] = write_features("audio", r, i, DA, Ta, 2.0, audio_w)
    r["vision"] = write_features("vision", r, i, DV, Tv, 0.3, vision_w)
    r["ntok"] = tok_count(r["text"])

# ---- the reference reading of label.csv (as MMSA-FET reads it) ----
df = pd.read_csv(os.path.join(OUT, "label.csv"), dtype={"clip_id": str, "video_id": str, "text": str})
assert len(df) == len(rows), (len(df), len(rows))
for i, r in enumerate(rows):
    rec = df.iloc[i]
    assert rec["video_id"].strip() == r["video"] and rec["clip_id"].strip() == r["clip"], (i, rec)
    assert rec["text"] == r["text"], (i, rec["text"], r["text"])
    assert np.float32(rec["label"]) == np.float32(r["label"]), (i, rec["label"], r["label"])
    assert rec["mode"] == r["mode"] and rec["annotation"] == r["ann"]
    for k, col in enumerate(["label_T", "label_A", "label_V"]):
        assert np.float32(rec[col]) == np.float32(r["tav"][k])


# ---- MMSA-FET's padding ----
def final_length(lengths):
    return int(np.mean(lengths) + 3 * np.std(lengths))


L = final_length([r["ntok"] + 2 for r in rows])
Ta = final_length([r["audio"].shape[0] for r in rows])
Tv = final_length([r["vision"].shape[0] for r in rows])
assert any(r["ntok"] + 2 > L for r in rows) and any(r["audio"].shape[0] > Ta for r in rows)
assert any(r["vision"].shape[0] > Tv for r in rows)


def pad(x, T):
    out = np.zeros((T, x.shape[1]), np.float32)
    n = min(T, x.shape[0])
    out[:n] = x[:n]
    return out, n


expected = {"text_len": np.array([L], np.int32), "audio_len": np.array([Ta], np.int32),
            "vision_len": np.array([Tv], np.int32)}
strings = {}
split_rows = {s: [r for r in rows if r["mode"] == s] for s in SPLITS}
for s in SPLITS:
    rs = split_rows[s]
    for kind, T in (("audio", Ta), ("vision", Tv)):
        padded = [pad(r[kind], T) for r in rs]
        expected["%s/%s" % (s, kind)] = np.stack([p[0] for p in padded])
        expected["%s/%s_lengths" % (s, kind)] = np.array([p[1] for p in padded], np.int32)
    expected["%s/labels" % s] = np.array([r["label"] for r in rs], np.float32)
    for k, c in enumerate("TAV"):
        expected["%s/labels_%s" % (s, c)] = np.array([r["tav"][k] for r in rs], np.float32)
    expected["%s/ntokens" % s] = np.array([r["ntok"] for r in rs], np.int32)
    strings[s] = {"id": ["%s$_$%s" % (r["video"], r["clip"]) for r in rs],
                  "raw_text": [r["text"] for r in rs], "annotations": [r["ann"] for r in rs]}

# ---- normalisation (lib/data/norm.h) ----
for kind in ("audio", "vision"):
    x = expected["train/" + kind]
    n = expected["train/%s_lengths" % kind]
    real = np.concatenate([x[i, :n[i]] for i in range(len(n))]).astype(np.float64)
    mean = real.mean(axis=0)
    std = np.sqrt(((real - mean) ** 2).mean(axis=0))
    std = np.where(std < 1e-6, 1.0, std)
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    expected["norm/%s_mean" % kind] = mean32
    expected["norm/%s_std" % kind] = std32
    for s in SPLITS:
        x = expected["%s/%s" % (s, kind)].copy()
        n = expected["%s/%s_lengths" % (s, kind)]
        for i in range(len(n)):
            x[i, :n[i]] = (x[i, :n[i]] - mean32) / std32
        expected["%s/%s_norm" % (s, kind)] = x

# a few raw files, for the feature reader's own test
for key in ["audio/vidA/0001", "audio/vid_B/2", "audio/v-3/0003", "audio/vidA/4",
            "audio/vid_B/0005", "audio/v-3/6", "audio/vidA/0007",
            "vision/vidA/0001", "vision/vid_B/2"]:
    expected["raw/" + key] = raw[key]

fixture_io.write(os.path.join(OUT, "expected.smfx"), expected)
with open(os.path.join(OUT, "expected_strings.json"), "w", encoding="utf-8") as f:
    json.dump(strings, f, ensure_ascii=False, indent=1)
print("L %d, Ta %d, Tv %d; splits %s" % (L, Ta, Tv, [len(split_rows[s]) for s in SPLITS]))
