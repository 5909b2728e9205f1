#!/bin/sh
# test_cli_fifo.sh -- an input path that is a FIFO (or another non-regular file)
# fails at once with "<path>: not a regular file (a FIFO)", for every command and
# option that reads a file: nothing may block in open() or read(). Each command
# runs under `timeout 10`, so a hang is a failure (exit 124) rather than a stuck
# suite.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli_cases.sh
fx=tests/fixtures/io
F=tests/fixtures/build
B=tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors
fifo="$tmp/fifo"
mkfifo "$fifo"

# fifo_case NAME WHAT -- ARGS: exit 1 within the timeout, and stderr names WHAT as a FIFO
fifo_case() {
  name=$1 what=$2
  shift 3
  timeout 10 "$cli" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$what: not a regular file (a FIFO)" "$tmp/err"; then
    ok "cli fifo $name"
  else
    echo "# $name: exit $rc (124: it blocked)"; sed 's/^/#   /' "$tmp/err" | head -5
    bad "cli fifo $name"
  fi
}

# a small trained model (with the demo's tokenizer) and its data
timeout 120 "$cli" train --demo --out "$tmp/demo" --max-epochs 1 --quiet >/dev/null 2>"$tmp/err"
check "demo model for the cases below" "[ -s '$tmp/demo/model.safetensors' ] && [ -s '$tmp/demo/data.npz' ]"
m="$tmp/demo/model.safetensors"
d="$tmp/demo/data.npz"
# one clip of the demo's widths, as .npy, for predict --text
"$cli" predict --model "$m" --data "$d" --index 0 >/dev/null 2>&1
printf '1,2,3,4,5,6,7,8\n' >"$tmp/a.csv"

fifo_case info               "$fifo" -- info "$fifo"
fifo_case test_data          "$fifo" -- test --model "$m" --data "$fifo"
fifo_case test_model         "$fifo" -- test --model "$fifo" --data "$d"
fifo_case predict_model      "$fifo" -- predict --model "$fifo" --data "$d"
fifo_case predict_data       "$fifo" -- predict --model "$m" --data "$fifo"
fifo_case predict_audio      "$fifo" -- predict --model "$m" --text "a b" --audio "$fifo" --vision "$tmp/a.csv"
fifo_case predict_vision     "$fifo" -- predict --model "$m" --text "a b" --audio "$tmp/a.csv" --vision "$fifo"
fifo_case convert_in         "$fifo" -- convert "$fifo" "$tmp/o.npz"
fifo_case convert_config     "$fifo" -- convert "$fx/selfmm_tiny.pth" "$tmp/o.safetensors" --config "$fifo"
fifo_case tokenize_vocab     "$fifo" -- tokenize --vocab "$fifo" hello
fifo_case train_data         "$fifo" -- train --data "$fifo" --bert "$B" --out "$tmp/r1" --quiet
fifo_case train_config       "$fifo" -- train --config "$fifo" --data "$d" --out "$tmp/r2" --quiet
fifo_case train_init         "$fifo" -- train --config "$tmp/demo/config.json" --data "$d" --init "$fifo" --out "$tmp/r3" --quiet
fifo_case build_labels       "$fifo" -- build-dataset --labels "$fifo" --audio "$F/audio" --vision "$F/vision" --bert "$B" --out "$tmp/b.npz"

# files inside a folder argument: BERT's config.json and weights, vocab.txt, a feature file
mkbert() { # mkbert DIR FILE: a copy of the tiny BERT folder whose FILE is a FIFO
  mkdir -p "$1" && cp "$B"/* "$1"/ && rm -f "$1/$2" && mkfifo "$1/$2"
}
mkbert "$tmp/bert_cfg" config.json
mkbert "$tmp/bert_w" model.safetensors
mkbert "$tmp/bert_vocab" vocab.txt
mkbert "$tmp/bert_tokcfg" tokenizer_config.json
fifo_case train_bert_config  "$tmp/bert_cfg/config.json" -- train --data "$d" --bert "$tmp/bert_cfg" --out "$tmp/r4" --quiet
fifo_case train_bert_weights "$tmp/bert_w/model.safetensors" -- train --data "$d" --bert "$tmp/bert_w" --out "$tmp/r5" --quiet
fifo_case tokenize_folder    "$tmp/bert_vocab/vocab.txt" -- tokenize --vocab "$tmp/bert_vocab" hello
fifo_case tokenize_json      "$tmp/bert_tokcfg/tokenizer_config.json" -- tokenize --vocab "$tmp/bert_tokcfg" hello
fifo_case build_bert_vocab   "$tmp/bert_vocab/vocab.txt" -- build-dataset --labels "$F/label.csv" --audio "$F/audio" --vision "$F/vision" --bert "$tmp/bert_vocab" --out "$tmp/b.npz"
cp -r "$F/audio" "$tmp/audio"
rm "$tmp/audio/vid_B/14.csv" && mkfifo "$tmp/audio/vid_B/14.csv"
fifo_case build_feature      "$tmp/audio/vid_B/14.csv" -- build-dataset --labels "$F/label.csv" --audio "$tmp/audio" --vision "$F/vision" --bert "$B" --out "$tmp/b.npz"

# other kinds of non-regular files, with the same message
timeout 10 "$cli" info /dev/null >"$tmp/out" 2>"$tmp/err"
check "a character device is refused" "[ $? -eq 1 ] && grep -qF '/dev/null: not a regular file (a character device)' '$tmp/err'"
timeout 10 "$cli" tokenize --vocab "$tmp/demo" hello >"$tmp/out" 2>"$tmp/err"
check "a folder without vocab.txt: its vocab.txt is missing" "[ $? -eq 1 ] && grep -q 'vocab.txt: no such file' '$tmp/err'"
timeout 10 "$cli" convert "$tmp/demo" "$tmp/o.npz" >"$tmp/out" 2>"$tmp/err"
check "a directory where a file is expected" "[ $? -eq 1 ] && grep -qF '$tmp/demo: not a regular file (a directory)' '$tmp/err'"
