#!/bin/sh
# test_cli_build.sh -- your own data end to end: build-dataset on
# tests/fixtures/build (label.csv with quoting edge cases, .npy and .csv features),
# train one epoch on the tiny BERT, then predict one sample from its text and
# feature files and compare with predict --data on the same sample of the built
# dataset. Then one case per kind of bad input (each: exit 1, the report names
# file, line and problem, no output file), and the usage errors.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli_cases.sh
F=tests/fixtures/build
B=tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors

build() { # build DIR OUT [options]: build-dataset from a folder laid out like the fixture
  d=$1 o=$2; shift 2
  "$cli" build-dataset --labels "$d/label.csv" --audio "$d/audio" --vision "$d/vision" --bert "$B" --out "$o" "$@"
}

# ---- the good path ----
build "$F" "$tmp/data.npz" --normalize >"$tmp/out" 2>"$tmp/err"
check "build-dataset exits 0 and writes the file" "[ $? -eq 0 ] && [ -s '$tmp/data.npz' ]"
check "summary: rows per split, lengths, normalisation" \
  "grep -q '24 rows: train 14, valid 5, test 5' '$tmp/err' && grep -q 'text: L = 31 (auto' '$tmp/err' && grep -q 'audio: T = 34 (auto' '$tmp/err' && grep -q 'normalisation: per-feature' '$tmp/err'"
"$cli" info "$tmp/data.npz" >"$tmp/out" 2>"$tmp/err"
check "info reads the built file" "[ $? -eq 0 ] && grep -q 'split train: 14 samples, text length 31, audio 34 x 5, vision 23 x 7' '$tmp/out' && grep -q '^norm     features standardised' '$tmp/out'"
build "$F" "$tmp/given.npz" --max-len 8 --audio-len 4 --vision-len auto --quiet >"$tmp/out" 2>"$tmp/err"
check "given lengths, --quiet prints nothing" "[ $? -eq 0 ] && [ ! -s '$tmp/err' ] && \"$cli\" info '$tmp/given.npz' | grep -q 'text length 8, audio 4 x 5, vision 23 x 7'"

"$cli" train --data "$tmp/data.npz" --bert "$B" --out "$tmp/run" --max-epochs 1 --quiet \
  --set batch_size=8 --set post_fusion_dim=16 >"$tmp/out" 2>"$tmp/err"
check "train one epoch on the built data" "[ $? -eq 0 ] && [ -s '$tmp/run/model.safetensors' ]"
"$cli" info "$tmp/run/model.safetensors" >"$tmp/out" 2>"$tmp/err"
check "the model keeps tokenizer, lengths and normalisation" \
  "grep -q 'tokenizer.type = bert-wordpiece' '$tmp/out' && grep -q 'input.text_len = 31' '$tmp/out' && grep -q 'norm.audio.mean = \[' '$tmp/out'"

m="$tmp/run/model.safetensors"
"$cli" predict --model "$m" --data "$tmp/data.npz" --split test >"$tmp/all.csv" 2>"$tmp/err"
# one sample from files vs the same sample of the dataset, alone (batch 1)
same_as_data() { # same_as_data ID TEXT AUDIO VISION
  idx=$(awk -F, -v id="$1" 'NR > 1 && $1 == id { print NR - 2 }' "$tmp/all.csv")
  "$cli" predict --model "$m" --data "$tmp/data.npz" --split test --index "$idx" >"$tmp/d.csv" 2>"$tmp/err" &&
  "$cli" predict --model "$m" --text "$2" --audio "$3" --vision "$4" >"$tmp/o.csv" 2>>"$tmp/err" &&
  [ "$(sed -n 1p "$tmp/o.csv")" = "M,T,A,V" ] &&
  [ "$(sed -n 2p "$tmp/d.csv" | cut -d, -f2-5)" = "$(sed -n 2p "$tmp/o.csv")" ]
}
check "predict --text/--audio/--vision equals predict --data (csv audio, npy vision)" \
  "same_as_data 'vid_B\$_\$14' 't12 t40 t33' '$F/audio/vid_B/14.csv' '$F/vision/vid_B/14.npy'"
long_text=$(sed -n 's/^0005,vid_B,[^,]*,"\([^"]*\)".*/\1/p' "$F/label.csv")
check "the same for a clip whose audio the data cut (40 steps, T = 34)" \
  "[ -n '$long_text' ] && same_as_data 'vid_B\$_\$0005' '$long_text' '$F/audio/vid_B/0005.csv' '$F/vision/vid_B/0005.npy'"
"$cli" predict --model "$m" --text "t12 t40 t33" --audio "$F/audio/vid_B/14.csv" --vision "$F/vision/vid_B/14.npy" \
  --out "$tmp/p.csv" >"$tmp/out" 2>"$tmp/err"
check "predict one sample --out FILE" "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/p.csv') -eq 2 ] && [ ! -s '$tmp/out' ]"

# ---- predict one sample: errors ----
"$cli" predict --model "$m" --text "t5" --audio "$F/vision/vid_B/14.npy" --vision "$F/vision/vid_B/14.npy" --out "$tmp/no.csv" >/dev/null 2>"$tmp/err"
check "feature width mismatch names both widths, writes nothing" \
  "[ $? -eq 1 ] && grep -q \"the audio has 7 features per step; the model's audio_dim is 5\" '$tmp/err' && [ ! -e '$tmp/no.csv' ]"
printf '1,2,3,4,5\nx,1,1,1,1\n' >"$tmp/badfeat.csv"
"$cli" predict --model "$m" --text "t5" --audio "$tmp/badfeat.csv" --vision "$F/vision/vid_B/14.npy" >/dev/null 2>"$tmp/err"
check "a bad feature file is named with line and column" "[ $? -eq 1 ] && grep -q 'badfeat.csv: line 2, column 1: not a number' '$tmp/err'"
"$cli" predict --model "$m" --text "   " --audio "$F/audio/vid_B/14.csv" --vision "$F/vision/vid_B/14.npy" >/dev/null 2>"$tmp/err"
check "empty text" "[ $? -eq 1 ] && grep -q 'the text is empty' '$tmp/err'"
"$cli" predict --model "$m" --data "$F/../io/mmsa_p4.pkl" >/dev/null 2>"$tmp/err"
check "predict --data warns when a normalised model meets raw data (then fails on widths)" \
  "grep -q 'trained on normalised features' '$tmp/err'"

# A model file whose input.text_len is huge: predict --text fails at once, naming the
# entry and its bound, instead of asking for gigabytes (the safetensors header is
# rewritten with perl: the new value, the header re-padded to 8 bytes, its length).
set_meta() { # set_meta IN OUT KEY VALUE
  perl -0777 -e 'open(F, "<:raw", $ARGV[0]) or die; local $/; my $d = <F>; close F;
    my $n = unpack("Q<", substr($d, 0, 8)); my $h = substr($d, 8, $n); $h =~ s/ +$//;
    $h =~ s/"\Q$ARGV[2]\E":"[^"]*"/"$ARGV[2]":"$ARGV[3]"/ or die "no $ARGV[2]";
    $h .= " " x ((8 - length($h) % 8) % 8);
    open(O, ">:raw", $ARGV[1]) or die; print O pack("Q<", length $h), $h, substr($d, 8 + $n); close O' "$@"
}
for huge in 2147483647 100000000; do
  set_meta "$m" "$tmp/huge.safetensors" input.text_len $huge
  timeout 10 "$cli" predict --model "$tmp/huge.safetensors" --text "t12 t40" --audio "$F/audio/vid_B/14.csv" \
    --vision "$F/vision/vid_B/14.npy" >"$tmp/out" 2>"$tmp/err"
  check "input.text_len $huge: a clear error at once" \
    "[ $? -eq 1 ] && grep -qF 'input.text_len is \"$huge\", expected a length in [2, 128] (max_position_embeddings)' '$tmp/err'"
done
set_meta "$m" "$tmp/same.safetensors" input.text_len 31
"$cli" predict --model "$m" --text "t12 t40 t33" --audio "$F/audio/vid_B/14.csv" --vision "$F/vision/vid_B/14.npy" >"$tmp/o1.csv" 2>"$tmp/err"
"$cli" predict --model "$tmp/same.safetensors" --text "t12 t40 t33" --audio "$F/audio/vid_B/14.csv" --vision "$F/vision/vid_B/14.npy" >"$tmp/o2.csv" 2>>"$tmp/err"
check "the rewritten file with the same value predicts the same" "[ $? -eq 0 ] && [ -s '$tmp/o1.csv' ] && cmp -s '$tmp/o1.csv' '$tmp/o2.csv'"

# ---- the demo model takes text too ----
"$cli" train --demo --out "$tmp/demo" --max-epochs 1 --quiet >/dev/null 2>"$tmp/err"
awk 'BEGIN { for (t = 0; t < 9; t++) { for (k = 0; k < 8; k++) printf "%s%g", k ? "," : "", (t * 8 + k) % 5 - 2; print "" } }' >"$tmp/a8.csv"
awk 'BEGIN { print "v0,v1,v2,v3,v4,v5,v6,v7,v8,v9"; for (t = 0; t < 5; t++) { for (k = 0; k < 10; k++) printf "%s%g", k ? "," : "", (t + k) % 3 - 1; print "" } }' >"$tmp/v10.csv"
"$cli" predict --model "$tmp/demo/model.safetensors" --text "pos1 pos4 neg2 w40" --audio "$tmp/a8.csv" --vision "$tmp/v10.csv" >"$tmp/out" 2>"$tmp/err"
check "a demo model predicts from text (demo vocabulary)" "[ $? -eq 0 ] && sed -n 2p '$tmp/out' | grep -Eq '^[-0-9.e]+,[-0-9.e]+,[-0-9.e]+,[-0-9.e]+$'"

# ---- bad input: one case each ----
bad_case() { # bad_case NAME: a fresh copy of the fixture in $tmp/NAME
  rm -rf "$tmp/$1"; cp -r "$F" "$tmp/$1"; rm -f "$tmp/$1/expected.smfx" "$tmp/$1/expected_strings.json"
}
expect_report() { # expect_report NAME FRAGMENT...: exit 1, each fragment in stderr, no output file
  n=$1; shift
  build "$tmp/$n" "$tmp/$n.npz" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 1 ] || return 1
  [ ! -e "$tmp/$n.npz" ] || return 1
  for f in "$@"; do grep -qF -- "$f" "$tmp/err" || return 1; done
}
bad_case missing; rm "$tmp/missing/audio/vidA/0001.npy"
check "missing feature file" "expect_report missing 'missing/label.csv:2: vidA\$_\$0001: audio: no file' 'missing/audio/vidA/0001.npy (nor .csv)'"
bad_case ragged; printf '1,2\n' >>"$tmp/ragged/audio/vid_B/14.csv"
check "ragged rows within a feature file" "expect_report ragged 'ragged/label.csv:19: vid_B\$_\$14: audio: ' 'ragged/audio/vid_B/14.csv: line ' ' has 2 values, line 1 has 5 (ragged rows)'"
bad_case widths; rm "$tmp/widths/vision/vidA/0001.npy"; printf '1,2,3,4,5,6\n7,8,9,10,11,12\n' >"$tmp/widths/vision/vidA/0001.csv"
check "feature widths differ across clips" "expect_report widths 'widths/label.csv:2: vidA\$_\$0001: vision: ' '0001.csv has 6 features per step; 23 of the 24 vision files read have 7'"
bad_case mode; sed -i '4s/,valid,/,val,/' "$tmp/mode/label.csv"
check "unknown mode" "expect_report mode 'mode/label.csv:4: v-3\$_\$0003: mode \"val\": expected train, valid or test'"
bad_case text; sed -i '4s/,-0.6,[^,]*,/,-0.6,,/' "$tmp/text/label.csv"
check "empty text" "expect_report text 'text/label.csv:4: v-3\$_\$0003: text is empty'"
bad_case cell; sed -i '2s/^[^,]*,/abc,/' "$tmp/cell/audio/vid_B/14.csv"
check "non-numeric feature cell" "expect_report cell 'cell/audio/vid_B/14.csv: line 2, column 1: not a number: \"abc\"'"
bad_case nan; sed -i '3s/^[^,]*,/nan,/; 4s/,[^,]*$/,-inf/' "$tmp/nan/audio/vid_B/14.csv"
check "NaN and infinities in features" "expect_report nan 'nan/audio/vid_B/14.csv: line 3, column 1: NaN (2 non-finite values in the file)'"
bad_case emptyfile; : >"$tmp/emptyfile/audio/vid_B/14.csv"; printf 'a,b,c,d,e,f,g\n' >"$tmp/emptyfile/vision/vid_B/2.csv"
check "empty feature files" "expect_report emptyfile 'emptyfile/audio/vid_B/14.csv: an empty file' 'emptyfile/vision/vid_B/2.csv: no rows of numbers (an empty feature file)'"
bad_case label; sed -i '4s/,-0.6,/,x,/' "$tmp/label/label.csv"; sed -i '2s/,vidA, 0.1 ,/,vidA,,/' "$tmp/label/label.csv"
check "bad label values" "expect_report label 'label/label.csv:2: vidA\$_\$0001: label is empty' 'label/label.csv:4: v-3\$_\$0003: label \"x\" is not a number'"
bad_case csv; printf 'v9,"open,0.1,t5,train\n' >>"$tmp/csv/label.csv"
check "a broken CSV record" "expect_report csv 'csv/label.csv:30: the quoted field opened on line 30 is never closed'"
bad_case all; rm "$tmp/all/audio/vidA/0001.npy"; sed -i '4s/,valid,/,val,/; 4s/,-0.6,/,x,/' "$tmp/all/label.csv"; : >"$tmp/all/vision/vid_B/2.csv"
expect_report all "all/label.csv:2: vidA\$_\$0001: audio: no file" "all/label.csv:3: vid_B\$_\$2: vision: " "all/label.csv:4: v-3\$_\$0003: mode" "all/label.csv:4: v-3\$_\$0003: label"
check "every bad row in one report, then one error line" "[ \$? -eq 0 ] && [ \$(grep -c 'all/label.csv:[0-9]*: ' '$tmp/err') -eq 5 ] && tail -1 '$tmp/err' | grep -q 'error: bad data: .*4 problems (first: '"
build "$tmp/all" "$tmp/capped.npz" --max-problems 2 >"$tmp/out" 2>"$tmp/err"
check "--max-problems caps the listing" "[ $? -eq 1 ] && grep -q '^\.\.\. and 2 more problems (4 in total)$' '$tmp/err'"
build "$F" "$tmp/toolong.npz" --max-len 500 >"$tmp/out" 2>"$tmp/err"
check "--max-len beyond BERT's positions" "[ $? -eq 1 ] && grep -q 'max_len 500 exceeds max_positions 128' '$tmp/err' && [ ! -e '$tmp/toolong.npz' ]"

# ---- usage ----
"$cli" build-dataset --help >"$tmp/out" 2>"$tmp/err"
check "build-dataset --help: exit 0 on stdout" "[ $? -eq 0 ] && grep -q '^usage: selfmm-cli build-dataset' '$tmp/out'"
"$cli" build-dataset --labels "$F/label.csv" --audio "$F/audio" --vision "$F/vision" --out "$tmp/u.npz" >/dev/null 2>"$tmp/err"
check "build-dataset without --bert: exit 2" "[ $? -eq 2 ] && grep -q -- '--bert' '$tmp/err'"
build "$F" "$tmp/u.npz" --max-len 1 >/dev/null 2>"$tmp/err"
check "--max-len 1: exit 2" "[ $? -eq 2 ] && grep -q 'auto or a number >= 2' '$tmp/err'"
build "$F" "$tmp/u.npz" --audio-len many >/dev/null 2>"$tmp/err"
check "--audio-len many: exit 2" "[ $? -eq 2 ]"
"$cli" predict --model "$m" --text "t5" --audio "$F/audio/vid_B/14.csv" >/dev/null 2>"$tmp/err"
check "predict --text without --vision: exit 2" "[ $? -eq 2 ] && grep -q 'all of --text, --audio and --vision' '$tmp/err'"
"$cli" predict --model "$m" --text "t5" --audio "$F/audio/vid_B/14.csv" --vision "$F/vision/vid_B/14.npy" --data "$tmp/data.npz" >/dev/null 2>"$tmp/err"
check "predict one sample with --data: exit 2" "[ $? -eq 2 ]"
