#!/bin/sh
# kill_soak.sh -- kill -9 a demo training at random points, resume it (killing the
# resume too, at random, up to MAX_KILLS times per trial) until it finishes, and
# compare every file with an uninterrupted run's: byte for byte, the logs without
# their "time" objects (wall-clock seconds). Also checks that no temp file
# (NAME.tmp.*) remains and that a killed run's folder is never mistaken for free.
#
#   tools/kill_soak.sh [TRIALS] [CLI]      (defaults: 30, build/selfmm-cli)
#   MAX_KILLS=3 ARGS="--seeds 1111,1112 --max-epochs 4" tools/kill_soak.sh 40
#
# Prints one line per trial and a summary; exits 1 when any trial differs.
set -u
trials=${1:-30}
cli=${2:-build/selfmm-cli}
args=${ARGS:---seeds 1111,1112 --max-epochs 4 --save-labels}
max_kills=${MAX_KILLS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_ms() { date +%s%3N; }
untimed() { sed 's/,"time":{"epoch":[0-9.]*,[^}]*}//' "$1"; }
# every file of the reference run in $1, equal (logs untimed); the names of any
# difference on stdout
differ() {
  (cd "$tmp/ref" && find . -type f ! -name .selfmm.lock ! -name report.html) | while read -r f; do
    case $f in
      *train_log.jsonl) untimed "$tmp/ref/$f" >"$tmp/a"; untimed "$1/$f" >"$tmp/b" 2>/dev/null
                        cmp -s "$tmp/a" "$tmp/b" || echo "$f" ;;
      *) cmp -s "$tmp/ref/$f" "$1/$f" || echo "$f" ;;
    esac
  done
  (cd "$1" && find . -type f ! -name .selfmm.lock ! -name report.html) | while read -r f; do
    [ -e "$tmp/ref/$f" ] || echo "$f (extra)"
  done
}

# the uninterrupted run, twice: its length (the shorter) spreads the kill points
dur=
for k in 1 2; do
  rm -rf "$tmp/ref"
  # shellcheck disable=SC2086
  t0=$(now_ms); "$cli" train --demo --quiet --out "$tmp/ref" $args >/dev/null 2>&1 || { echo "reference run failed"; exit 1; }
  d=$(( $(now_ms) - t0 ))
  [ -z "$dur" ] || [ "$d" -lt "$dur" ] && dur=$d
done
echo "# uninterrupted run: ${dur} ms ($args)"

kills=0 temps_seen=0 bad=0 resumes=0
i=1
while [ "$i" -le "$trials" ]; do
  out="$tmp/t$i"
  n=0 done=0 first=1
  while [ "$done" -eq 0 ]; do
    if [ "$first" -eq 1 ]; then
      # shellcheck disable=SC2086
      "$cli" train --demo --quiet --out "$out" $args >/dev/null 2>"$tmp/err" &
    else
      "$cli" train --resume "$out" --quiet >/dev/null 2>"$tmp/err" &
      resumes=$((resumes + 1))
    fi
    pid=$!
    if [ "$n" -lt "$max_kills" ]; then
      # a random point within 80% of the run's length (the first attempt) or 50% (a
      # resume, which has less left to do)
      f=$([ "$first" -eq 1 ] && echo 0.8 || echo 0.5)
      delay=$(awk -v s="$i$n$$" -v d="$dur" -v f="$f" 'BEGIN { srand(s); printf "%.3f", 0.02 + rand() * f * d / 1000 }')
      sleep "$delay"
      if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        n=$((n + 1)); kills=$((kills + 1))
        t=$(find "$out" -name '*.tmp.*' 2>/dev/null | wc -l)
        temps_seen=$((temps_seen + t))
        # a killed run's folder is never free for a new run
        if [ -e "$out/run.json" ]; then
          # shellcheck disable=SC2086
          "$cli" train --demo --quiet --out "$out" $args >/dev/null 2>"$tmp/err2"
          if [ $? -ne 1 ] || ! grep -q 'already holds a run' "$tmp/err2"; then
            echo "trial $i: a new train into the killed run was not refused"; bad=$((bad + 1))
          fi
        fi
        first=$([ -e "$out/run.json" ] && echo 0 || echo 1) # killed before run.json: start again
        [ "$first" -eq 1 ] && rm -rf "$out"
        continue
      fi
    fi
    wait "$pid"; rc=$?
    if [ "$rc" -ne 0 ]; then echo "trial $i: exit $rc after $n kills:"; sed 's/^/#   /' "$tmp/err"; bad=$((bad + 1)); break; fi
    done=1
  done
  if [ "$done" -eq 1 ]; then
    d=$(differ "$out")
    t=$(find "$out" -name '*.tmp.*' | wc -l)
    if [ -n "$d" ] || [ "$t" -ne 0 ]; then
      echo "trial $i: $n kills: DIFFERS: $(echo "$d" | tr '\n' ' ') temp files left: $t"; bad=$((bad + 1))
    else
      echo "trial $i: $n kills: identical"
    fi
  fi
  rm -rf "$out"
  i=$((i + 1))
done
echo "# $trials trials, $kills kills, $resumes resumes, $temps_seen temp files found after kills (all removed by resume), $bad bad"
[ "$bad" -eq 0 ]
