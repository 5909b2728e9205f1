#!/bin/sh
# test_cli_runs.sh -- one run per --out folder: the lock against a concurrent
# train or resume, refusing to train over a run without --overwrite, what
# --overwrite clears (the run's files only), stale temp files removed on resume,
# checkpoints of another seed or config refused, duplicate seeds.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
. tests/cli_cases.sh
suite="cli runs"

# the files of a folder, relative, sorted (the lock file included)
files() { (cd "$1" && find . -type f | sort); }
# every run file of $1 equal to $2's, byte for byte but for the seconds in the
# logs' "time" objects (the reports embed no paths; their charts no times)
untimed() { sed 's/,"time":{"epoch":[0-9.]*,[^}]*}//' "$1"; }
same_run() {
  for f in $(cd "$2" && find . -type f ! -name .selfmm.lock ! -name report.html); do
    case $f in
      *train_log.jsonl)
        grep -q '"time":{"epoch":' "$1/$f" && untimed "$1/$f" >"$tmp/l1" && untimed "$2/$f" >"$tmp/l2" &&
          cmp -s "$tmp/l1" "$tmp/l2" ;;
      *) cmp -s "$1/$f" "$2/$f" ;;
    esac || { echo "# $1/$f differs" >"$tmp/err"; return 1; }
  done
}

demo() { "$cli" train --demo --quiet --max-epochs 2 "$@"; }

# Reference runs, each into a folder of its own.
demo --out "$tmp/ref" --seeds 1111 >/dev/null 2>"$tmp/err"
check "reference run" "[ $? -eq 0 ] && [ -s '$tmp/ref/metrics.json' ]"
demo --out "$tmp/ref4" --seeds 1111 --max-epochs 4 >/dev/null 2>"$tmp/err"
check "reference run of 4 epochs" "[ $? -eq 0 ]"

# ---- two concurrent trainings into one folder ----
"$cli" train --demo --quiet --out "$tmp/a" --seeds 1111 --max-epochs 4 >/dev/null 2>"$tmp/a.err" &
bg=$!
i=0 # until the first run holds the folder (its pid in the lock file)
while [ "$(cat "$tmp/a/.selfmm.lock" 2>/dev/null)" != "$bg" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
check "the first run holds the folder, its pid in the lock file" "[ \"\$(cat '$tmp/a/.selfmm.lock')\" = $bg ]"
t0=$(date +%s)
demo --out "$tmp/a" --seeds 2222 >/dev/null 2>"$tmp/err"; rc=$?
check "a second train into it fails, naming the holder's pid" \
  "[ $rc -eq 1 ] && grep -q 'is in use by another run (pid $bg)' '$tmp/err'"
demo --out "$tmp/a" --seeds 2222 --overwrite >/dev/null 2>"$tmp/err"; rc=$?
check "--overwrite does not take it either" "[ $rc -eq 1 ] && grep -q '(pid $bg)' '$tmp/err'"
"$cli" train --resume "$tmp/a" --quiet >/dev/null 2>"$tmp/err"; rc=$?
check "nor does --resume" "[ $rc -eq 1 ] && grep -q 'in use by another run (pid $bg)' '$tmp/err'"
check "they fail at once (not after the first run)" "[ \$((\$(date +%s) - t0)) -le 5 ] && kill -0 $bg"
wait "$bg"; rc=$?; bg=
cp "$tmp/a.err" "$tmp/err"
check "the first run ends well" "[ $rc -eq 0 ]"
check "its files are intact: byte for byte an undisturbed run's" "same_run '$tmp/a' '$tmp/ref4' && same_run '$tmp/ref4' '$tmp/a'"
check "no file of the second run" "! grep -q 2222 '$tmp/a/run.json' && [ ! -e '$tmp/a/seed-2222' ]"

# ---- fsync off: the same run (its files carry the config, so only the results compare) ----
untimed "$tmp/ref/train_log.jsonl" >"$tmp/ref.log"
demo --out "$tmp/nosync" --seeds 1111 --set fsync=false >/dev/null 2>"$tmp/err"
check "--set fsync=false: the same run, recorded in config.json" \
  "[ $? -eq 0 ] && grep -q '\"fsync\":[[:space:]]*false' '$tmp/nosync/config.json' && cmp -s '$tmp/nosync/metrics.json' '$tmp/ref/metrics.json' && untimed '$tmp/nosync/train_log.jsonl' | cmp -s - '$tmp/ref.log'"

# ---- training into a folder that holds a run ----
demo --out "$tmp/b" --seeds 1111,1112 --save-labels >/dev/null 2>"$tmp/err"
check "a finished run of two seeds" "[ $? -eq 0 ] && [ -d '$tmp/b/seed-1112' ]"
files "$tmp/b" >"$tmp/b.files"
(cd "$tmp/b" && sha256sum $(find . -type f ! -name .selfmm.lock) | sort) >"$tmp/b.sums"
demo --out "$tmp/b" --seeds 1111 >/dev/null 2>"$tmp/err"; rc=$?
check "train into a finished run refuses" "[ $rc -eq 1 ] && grep -q 'already holds a run' '$tmp/err'"
check "and points to --resume, another --out and --overwrite" \
  "grep -q -- '--resume $tmp/b' '$tmp/err' && grep -q -- 'another --out' '$tmp/err' && grep -q -- '--overwrite' '$tmp/err'"
check "and changes nothing" "(cd '$tmp/b' && sha256sum -c --quiet '$tmp/b.sums') && files '$tmp/b' | cmp -s - '$tmp/b.files'"
# a partial run (killed in its first epoch: config and run.json only) is a run too
mkdir -p "$tmp/p" && cp "$tmp/b/run.json" "$tmp/b/config.json" "$tmp/p/"
demo --out "$tmp/p" >/dev/null 2>"$tmp/err"
check "train into a partial run refuses" "[ $? -eq 1 ] && grep -q 'already holds a run (run.json)' '$tmp/err'"
mkdir -p "$tmp/s/seed-7"
demo --out "$tmp/s" >/dev/null 2>"$tmp/err"
check "a seed folder alone is a run" "[ $? -eq 1 ] && grep -q 'already holds a run (seed-7)' '$tmp/err'"
mkdir -p "$tmp/u" && echo mine >"$tmp/u/notes.txt"
demo --out "$tmp/u" --seeds 1111 >/dev/null 2>"$tmp/err"
check "a folder with files of the user's only is no run" "[ $? -eq 0 ] && same_run '$tmp/u' '$tmp/ref' && grep -q mine '$tmp/u/notes.txt'"

# --overwrite: the old run's files go, the user's stay, and the new run is what it
# would be in an empty folder
echo mine >"$tmp/b/notes.txt"
echo mine >"$tmp/b/seed-1112/mine.txt"
: >"$tmp/b/seed-1111/checkpoint.safetensors.tmp.Xy12Ab"
demo --out "$tmp/b" --seeds 1111 --overwrite >/dev/null 2>"$tmp/err"
check "--overwrite replaces the run" "[ $? -eq 0 ] && same_run '$tmp/b' '$tmp/ref'"
check "only the new run's files and the user's remain" \
  "[ \"\$(files '$tmp/b')\" = \"\$( (files '$tmp/ref'; echo ./notes.txt; echo ./seed-1112/mine.txt) | sort)\" ]"
check "the user's files are untouched" "grep -q mine '$tmp/b/notes.txt' && grep -q mine '$tmp/b/seed-1112/mine.txt'"
demo --out "$tmp/b" --seeds 1111 --overwrite --data x >/dev/null 2>"$tmp/err"
check "--overwrite with a bad command clears nothing" "[ $? -eq 2 ] && same_run '$tmp/b' '$tmp/ref'"
"$cli" train --data /nonexistent.pkl --out "$tmp/b" --overwrite --quiet >/dev/null 2>"$tmp/err"
check "--overwrite with missing data clears nothing" "[ $? -eq 1 ] && same_run '$tmp/b' '$tmp/ref'"
case_ "--resume with --overwrite: exit 2" 2 err "--resume DIR takes the run's settings" -- train --resume "$tmp/b" --overwrite

# ---- resume after kill -9: no temp file left, the same result ----
cp -r "$tmp/ref" "$tmp/k"
rm -f "$tmp/k/seed-1111/result.json" "$tmp/k/metrics.json" "$tmp/k/model.safetensors"
for f in seed-1111/checkpoint.safetensors.tmp.Ab12Cd seed-1111/model.safetensors.tmp.Q1w2E3 \
         seed-1111/result.json.tmp.Zz9Yy8 metrics.json.tmp.aaaaaa data.npz.tmp.bbbbbb.cccccc; do
  head -c 1000 /dev/urandom >"$tmp/k/$f" # what a kill between write and rename leaves
done
echo mine >"$tmp/k/mine.tmp.keep"
"$cli" train --resume "$tmp/k" >/dev/null 2>"$tmp/err"
check "resume finishes the run" "[ $? -eq 0 ] && same_run '$tmp/k' '$tmp/ref'"
check "resume says it removed the 5 stale temp files" "grep -q 'removed 5 temp files' '$tmp/err'"
check "no temp file of the run remains, the user's stays" \
  "[ -z \"\$(find '$tmp/k' -name '*.tmp.*' ! -name mine.tmp.keep)\" ] && [ -e '$tmp/k/mine.tmp.keep' ]"
# a real kill -9 in the middle of the second seed, then resume
"$cli" train --demo --quiet --out "$tmp/kk" --seeds 1111,1112 --max-epochs 4 >/dev/null 2>&1 &
bg=$!
i=0
while [ ! -e "$tmp/kk/seed-1112/checkpoint.safetensors" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=
check "killed during the second seed" "[ -e '$tmp/kk/seed-1112/checkpoint.safetensors' ] && [ ! -e '$tmp/kk/seed-1112/result.json' ]"
"$cli" train --resume "$tmp/kk" --quiet >/dev/null 2>"$tmp/err"
check "resume after kill -9" "[ $? -eq 0 ] && [ -z \"\$(find '$tmp/kk' -name '*.tmp.*')\" ]"
demo --out "$tmp/kref" --seeds 1111,1112 --max-epochs 4 >/dev/null 2>"$tmp/err"
check "ends as the uninterrupted run" "same_run '$tmp/kk' '$tmp/kref' && same_run '$tmp/kref' '$tmp/kk'"

# ---- checkpoints that are not this run's ----
demo --out "$tmp/m" --seeds 1111,1112 >/dev/null 2>"$tmp/err"
rm "$tmp/m/seed-1112/result.json"
cp "$tmp/m/seed-1111/checkpoint.safetensors" "$tmp/m/seed-1112/checkpoint.safetensors"
cp "$tmp/m/seed-1112/train_log.jsonl" "$tmp/m.log"
"$cli" train --resume "$tmp/m" --quiet >/dev/null 2>"$tmp/err"
check "a checkpoint copied from another seed's folder is refused" \
  "[ $? -eq 1 ] && grep -q 'belongs to the run of seed 1111, not to this run (seed 1112)' '$tmp/err'"
check "and the seed's log is left alone" "cmp -s '$tmp/m.log' '$tmp/m/seed-1112/train_log.jsonl'"
# the run's config changed after the checkpoint was written
sed 's/"learning_rate_bert":[[:space:]]*[0-9.e-]*/"learning_rate_bert": 0.5/' "$tmp/m/config.json" >"$tmp/c" && mv "$tmp/c" "$tmp/m/config.json"
rm "$tmp/m/seed-1111/result.json"
"$cli" train --resume "$tmp/m" --quiet >/dev/null 2>"$tmp/err"
check "a checkpoint of another config is refused, naming the key" \
  "[ $? -eq 1 ] && grep -q 'learning_rate_bert' '$tmp/err'"

# ---- seeds ----
case_ "duplicate seeds: exit 2" 2 err "seed 1 is given twice" -- train --demo --out "$tmp/d" --seeds 1,2,1
check "duplicate seeds write nothing" "[ ! -e '$tmp/d' ]"
cp -r "$tmp/ref" "$tmp/r2"
sed 's/"seeds":[[:space:]]*\[1111\]/"seeds": [1111, 1111]/' "$tmp/ref/run.json" >"$tmp/r2/run.json"
"$cli" train --resume "$tmp/r2" --quiet >/dev/null 2>"$tmp/err"
check "a run.json with a seed twice is refused" "grep -q '1111, 1111' '$tmp/r2/run.json' && grep -q 'malformed run description' '$tmp/err'"
