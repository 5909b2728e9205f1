"""gen_report_fixture.py -- the tune folder that tests/test_cli_report.sh renders.

    python3 tools/gen_report_fixture.py REFERENCE_DIR SELFMM_CLI OUT_DIR [--trials 12]

Draws the trials with the reference's own search space (config/config_tune.py,
ConfigTune.__SELF_MM's debugParas, one call per trial, Python's `random` seeded
with 7), trains each with `selfmm-cli train --demo --max-epochs 3` and the drawn
keys that libselfmm's config has, and lays the folder out as a tune folder:

    OUT_DIR/tune.json          {"keys": d_paras, "trials": N, "seed": 7, ...}
    OUT_DIR/results.csv        Trial, every key of d_paras, the validation metrics of
                               the best epoch under MMSA's names, each as the
                               reference's run_tune stores it: round(mean * 100, 2)
    OUT_DIR/best_config.json   the config of the trial with the lowest Loss
    OUT_DIR/trial-<NNN>/       the `train --out` folder of each trial

The trial folders lose what the report does not read, to keep the fixture small:
the models, the checkpoint, data.npz, report.html, the per-seed copies of
train_log.jsonl, and the "batch" and "step" lines of the folder's train_log.jsonl
(the report reads only its "epoch" lines).
"""
import argparse
import csv
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys

# keys of d_paras that libselfmm's config does not have: text_out is BERT's hidden
# size (the demo's BERT is smaller) and t_bert_dropout is not read by the reference's
# model; they are recorded as drawn
NOT_OUR_KEYS = {"text_out", "t_bert_dropout"}


def load_space(ref_dir):
    sys.path.insert(0, ref_dir)
    spec = importlib.util.spec_from_file_location("config_tune", os.path.join(ref_dir, "config", "config_tune.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return lambda: mod.ConfigTune._ConfigTune__SELF_MM(None)["debugParas"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("cli")
    ap.add_argument("out")
    ap.add_argument("--trials", type=int, default=12)
    a = ap.parse_args()
    draw = load_space(a.ref)
    random.seed(7)
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.makedirs(a.out)
    rows, keys, metric_names = [], None, None
    best = None
    for t in range(1, a.trials + 1):
        paras = draw()
        keys = paras["d_paras"]
        tdir = os.path.join(a.out, "trial-%03d" % t)
        cmd = [a.cli, "train", "--demo", "--max-epochs", "3", "--quiet", "--out", tdir]
        for k in keys:
            if k not in NOT_OUR_KEYS and k in paras:
                cmd += ["--set", "%s=%s" % (k, paras[k])]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        epochs = [json.loads(l) for l in open(os.path.join(tdir, "train_log.jsonl"))]
        epochs = [e for e in epochs if e.get("type") == "epoch"]
        best_epoch = epochs[-1]["best_epoch"]
        valid = next(e for e in epochs if e["epoch"] == best_epoch)["valid"]
        # the reference's results dict: the metrics, then Loss
        names = [n for n in valid if n != "Loss"] + ["Loss"]
        metric_names = metric_names or names
        row = {"Trial": t}
        # H is in d_paras but not drawn (the reference's config_tune has no value for
        # it): record the value the trial ran with
        config = json.load(open(os.path.join(tdir, "config.json")))
        row.update({k: paras[k] if k in paras else config[k] for k in keys})
        # run_tune: round(sum(values) * 100 / len(values), 2) over the trial's seeds (one)
        row.update({n: round(valid[n] * 100 / 1, 2) for n in names})
        rows.append(row)
        if best is None or row["Loss"] < best[0]:
            best = (row["Loss"], t)
        with open(os.path.join(tdir, "train_log.jsonl"), "w") as f:
            f.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in epochs)
        for junk in ("model.safetensors", "data.npz", "report.html"):
            if os.path.exists(os.path.join(tdir, junk)):
                os.remove(os.path.join(tdir, junk))
        for sd in os.listdir(tdir):
            if sd.startswith("seed-"):
                for junk in ("model.safetensors", "checkpoint.safetensors", "train_log.jsonl"):
                    p = os.path.join(tdir, sd, junk)
                    if os.path.exists(p):
                        os.remove(p)
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Trial"] + keys + metric_names)
        for r in rows:
            w.writerow([r["Trial"]] + [r[k] for k in keys] + [r[n] for n in metric_names])
    shutil.copy(os.path.join(a.out, "trial-%03d" % best[1], "config.json"), os.path.join(a.out, "best_config.json"))
    with open(os.path.join(a.out, "tune.json"), "w") as f:
        json.dump({"keys": keys, "trials": a.trials, "seed": 7, "seeds": [1111], "demo": True,
                   "max_epochs": 3}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
