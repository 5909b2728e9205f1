#!/bin/sh
# bench_cycles.sh -- the figures of docs/PLATFORM.md §4: `selfmm-cli bench` for SIMS and
# MOSI shapes (batch 32, 2 threads), fp32 and bf16, the bench's text lengths and
# --full-text, alternating, then PyTorch's bf16 in the same cycle
# (tools/peer_torch_bert.py: medians and best rounds). One JSON line per bench run.
#
#   tools/bench_cycles.sh HARNESS [CYCLES=2] [CLI]
set -u
[ $# -ge 1 ] || { sed -n '2,7p' "$0"; exit 2; }
harness=$1 cycles=${2:-2} cli=${3:-build/selfmm-cli}
here=$(dirname "$0")
for c in $(seq 1 "$cycles"); do
  for ds in sims:39 mosi:50; do
    p=${ds%%:*} L=${ds##*:}
    for prec in fp32 bf16; do
      for ft in "" --full-text; do
        echo "cycle $c $p $prec ${ft:-default} load $(cut -d' ' -f1 /proc/loadavg)" \
             "$("$cli" bench --preset "$p" --batch 32 --steps 3 --threads 2 --precision "$prec" $ft)"
      done
    done
    /usr/bin/python3 "$here/peer_torch_bert.py" "$harness" "$L" 3 | sed "s/^/cycle $c $p torch: /"
  done
done
