#!/bin/sh
# check_predict_metrics.sh -- the acceptance check of the metrics: the reference's own
# utils/metricsTop.py on what `selfmm-cli predict` writes gives what `selfmm-cli test`
# reports.
#
#   tools/check_predict_metrics.sh MODEL DATA HARNESS [SPLIT] [KEEP_DIR]
#
# MODEL a native model file (its config says the dataset kind, F1 order and rounding),
# DATA the dataset, HARNESS ../shared/reference/harness, SPLIT test (default), valid or
# train. It runs
#   1. selfmm-cli predict --model MODEL --data DATA --split SPLIT   (id,M,T,A,V,label)
#   2. run_thuiar.py metrics --dataset KIND --csv P.csv with pred = M, truth = label
#      (thuiar/Self-MM's metricsTop.py on float32 tensors, as its trainer calls it)
#   3. selfmm-cli test --model MODEL --data DATA --split SPLIT
# and compares every metric: equal values pass (metricsTop.py rounds MOSI/MOSEI to 4
# decimals, SIMS not; Corr unrounded may differ in the last bits, NumPy's BLAS sum, so
# it is also shown to 1e-12). With KEEP_DIR it keeps <kind>_pred.csv,
# <kind>_reference.json, <kind>_test.json and <kind>_config.json there (the fixtures
# of tests/test_metrics.c). The metricsTop.py variant of the reference harness is
# Self-MM's: models with metrics_mae_float64 (MMSA) are refused. Exit 0 when all agree.
set -eu
[ $# -ge 3 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
model=$1 data=$2 harness=$3 split=${4:-test} keep=${5:-}
cli=${SELFMM_CLI:-build/selfmm-cli}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$cli" predict --model "$model" --data "$data" --split "$split" --out "$tmp/pred.csv"
"$cli" test --model "$model" --data "$data" --split "$split" >"$tmp/test.json"
"$cli" info --json "$model" >"$tmp/info.json"

"$py" - "$tmp" "$harness" "$keep" <<'EOF'
import csv, json, math, os, shutil, subprocess, sys
tmp, harness, keep = sys.argv[1:4]
test = json.load(open(os.path.join(tmp, "test.json")))
info = json.load(open(os.path.join(tmp, "info.json")))
cfg = info.get("config") or {}
kind = test["dataset"]
if cfg.get("metrics_mae_float64"):
    sys.exit("check_predict_metrics: the model rounds MAE as MMSA does; the harness runs Self-MM's metricsTop.py")
with open(os.path.join(tmp, "pred.csv")) as f, open(os.path.join(tmp, "pt.csv"), "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["pred", "truth"])
    rows = 0
    for r in csv.DictReader(f):
        w.writerow([r["M"], r["label"]])
        rows += 1
out = subprocess.run([sys.executable, os.path.join(harness, "run_thuiar.py"), "metrics", "--dataset", kind,
                      "--csv", os.path.join(tmp, "pt.csv")], check=True, capture_output=True, text=True).stdout
ref = json.loads(out)
print(f"{kind}, {rows} samples, split {test['split']}; metricsTop.py (run_thuiar.py metrics) vs selfmm-cli test:")
print(f"  {'metric':<14} {'metricsTop.py':>22} {'selfmm-cli test':>22} {'test raw':>22}  equal")
bad = 0
for k, v in ref.items():
    t = test.get(k)
    t = float("nan") if t is None else t
    same = (v == t) or (math.isnan(v) and math.isnan(t))
    close = same or (k == "Corr" and abs(v - t) <= 1e-12)
    bad += not close
    raw = test["raw"].get(k)
    print(f"  {k:<14} {v!r:>22} {t!r:>22} {raw!r:>22}  {'yes' if same else 'within 1e-12' if close else 'NO'}")
print(f"  {'Loss':<14} {'':>22} {test['Loss']!r:>22} {test['raw']['Loss']!r:>22}")
if keep:
    os.makedirs(keep, exist_ok=True)
    shutil.copy(os.path.join(tmp, "pred.csv"), os.path.join(keep, f"{kind}_pred.csv"))
    with open(os.path.join(keep, f"{kind}_reference.json"), "w") as f:
        f.write(out)
    shutil.copy(os.path.join(tmp, "test.json"), os.path.join(keep, f"{kind}_test.json"))
    with open(os.path.join(keep, f"{kind}_config.json"), "w") as f:
        json.dump({k: cfg[k] for k in ("dataset", "f1_truth_weighted", "metrics_decimals", "metrics_mae_float64",
                                        "valid_loss_decimals") if k in cfg}, f, indent=1)
        f.write("\n")
print("all metrics agree" if not bad else f"{bad} metric(s) differ")
sys.exit(1 if bad else 0)
EOF
