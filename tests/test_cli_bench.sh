#!/bin/sh
# test_cli_bench.sh -- data-driven cases for `selfmm-cli bench` (test_cli.sh style):
# arguments, expected exit code, and a string expected on stdout or stderr. The runs
# use a small BERT through --set so that they take well under a second.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suite="cli bench"
. tests/cli_cases.sh

small="--set num_hidden_layers=1 --set hidden_size=32 --set num_attention_heads=2 --set intermediate_size=64 --set vocab_size=100"

case_ help        0 out "--preset NAME"               -- bench --help
case_ in_summary  0 out "bench"                       -- --help
# shellcheck disable=SC2086
case_ sims        0 out '"case": "sims", "batch": 3'  -- bench --steps 1 --batch 3 --threads 1 $small
# shellcheck disable=SC2086
case_ fields      0 out '"ratio": '                   -- bench --steps 2 --batch 2 $small
# shellcheck disable=SC2086
case_ mosi_shape  0 out '"text_len": 50, "text_tokens": 100, "audio_len": 375, "vision_len": 500' -- bench --preset mosi --steps 1 --batch 2 --full-text $small
# without --full-text the texts are shorter than 50 but sample 0's: BERT's layers skip the rest
# shellcheck disable=SC2086
case_ skips_pad   0 out '"text_len": 50, "text_tokens": 94,' -- bench --preset mosi --steps 1 --batch 2 $small
# shellcheck disable=SC2086
case_ mmsa_shape  0 out '"case": "mmsa-sims", "batch": 2, "text_len": 39, "text_tokens": 78, "audio_len": 400, "vision_len": 55' -- bench --preset mmsa-sims --steps 1 --batch 2 --full-text $small
case_ bad_preset  2 err "unknown preset 'imdb'"       -- bench --preset imdb
case_ bad_mmsa    2 err "unknown preset 'mmsa-imdb'"  -- bench --preset mmsa-imdb
case_ bad_batch   2 err "--batch wants an integer"    -- bench --batch 0
case_ bad_steps   2 err "--steps wants an integer"    -- bench --steps x
case_ bad_threads 2 err "--threads wants an integer"  -- bench --threads -1
case_ bad_set     2 err "nope"                        -- bench --set nope=1
case_ bad_opt     2 err "unknown or incomplete option" -- bench --frobnicate
case_ extra_arg   2 err "unexpected argument"         -- bench stray

# every field the brief names is in the JSON line
# shellcheck disable=SC2086
"$cli" bench --steps 1 --batch 2 $small >"$tmp/json" 2>"$tmp/err"
missing=""
for f in case text_tokens train_step_s eval_step_s bert_s audio_lstm_s vision_lstm_s rest_s bert_gflops \
         sgemm_gflops ratio peak_rss_mb; do
  grep -q "\"$f\": " "$tmp/json" || missing="$missing $f"
done
if [ -z "$missing" ] && [ "$(wc -l <"$tmp/json")" -eq 1 ]; then
  echo "ok - cli bench json_fields"
else
  echo "# missing:$missing"; sed 's/^/#   /' "$tmp/json" "$tmp/err" | head -5
  echo "not ok - cli bench json_fields"
fi
