#!/bin/sh
# test_examples.sh -- the examples run, and train_steps (the step-level recipe)
# computes exactly what selfmm_fit does (same losses and validation to 4 decimals).
set -u
b="${SELFMM_BUILD:-build}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if "$b/examples/show_config" mosi batch_size=8 >"$tmp/cfg" 2>&1 && grep -q '"batch_size":	8' "$tmp/cfg"; then
  echo "ok - show_config"; else echo "not ok - show_config"; fi
"$b/examples/show_config" mosi nope=1 >/dev/null 2>"$tmp/err"
if [ $? -ne 0 ] && grep -q 'unknown config key' "$tmp/err"; then echo "ok - show_config reports a bad key"; else echo "not ok - show_config reports a bad key"; fi
"$b/examples/train_steps" 2 >"$tmp/steps" 2>&1 || { echo "not ok - train_steps runs"; cat "$tmp/steps" | sed 's/^/# /'; }
"$b/selfmm-cli" train --demo --out "$tmp/run" --max-epochs 2 >/dev/null 2>"$tmp/fit"
sed -n 's/^epoch \([0-9]*\): train loss \([0-9.]*\), valid Loss \([0-9.]*\), Mult_acc_2 \([0-9.]*\)$/\1 \2 \3 \4/p' "$tmp/steps" >"$tmp/a"
sed -n 's/^seed 1111 epoch \([0-9]*\): train loss \([0-9.]*\) | valid Loss \([0-9.]*\) Mult_acc_2 \([0-9.]*\) .*/\1 \2 \3 \4/p' "$tmp/fit" >"$tmp/b"
if [ -s "$tmp/a" ] && [ "$(wc -l <"$tmp/a")" -eq 2 ] && cmp -s "$tmp/a" "$tmp/b"; then
  echo "ok - train_steps equals selfmm_fit"
else
  echo "# steps:"; sed 's/^/#   /' "$tmp/a"; echo "# fit:"; sed 's/^/#   /' "$tmp/b"
  echo "not ok - train_steps equals selfmm_fit"
fi
