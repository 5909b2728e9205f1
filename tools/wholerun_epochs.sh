#!/bin/sh
# wholerun_epochs.sh -- one epoch of a whole training run, ours against the reference
# trainer, each measured inside its own run (docs/PLATFORM.md §4): the reference's
# intervals between validation ends (tools/ref_epoch_times.py) and our train_log.jsonl
# epoch lines' "time" objects, fp32 then bf16, 3 epochs each, 2 threads.
#
#   tools/wholerun_epochs.sh HARNESS DATA.pkl BERT_DIR WORK [CLI]
#   (data and BERT folder from tools/wholerun_data.py; WORK receives the runs)
set -u
[ $# -ge 4 ] || { sed -n '2,9p' "$0"; exit 2; }
harness=$1 data=$2 bert=$3 work=$4 cli=${5:-build/selfmm-cli}
here=$(dirname "$0")
mkdir -p "$work"
echo "== $(basename "$data") load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$here/ref_epoch_times.py" "$harness" --data "$data" --dataset sims --bert "$bert" \
  --max-epochs 3 --threads 2 --out "$work/ref" 2>&1 >/dev/null |
  awk '/do_test VAL/ { e = $6; if (p) printf "reference epoch %.2f s\n", e - p; p = e }
       /^save/ { print "reference " $0 }'
for prec in fp32 bf16; do
  "$cli" train --preset sims --data "$data" --bert "$bert" --no-shuffle --max-epochs 3 --threads 2 --quiet \
    --overwrite --out "$work/ours_$prec" --set precision=$prec >/dev/null 2>"$work/ours.err" ||
    { cat "$work/ours.err"; exit 1; }
  grep '"type":"epoch"' "$work/ours_$prec/train_log.jsonl" | grep -o '"time":{[^}]*}' | sed "s/^/ours $prec /"
done
