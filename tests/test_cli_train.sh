#!/bin/sh
# test_cli_train.sh -- selfmm-cli train / test / predict end to end on the demo
# (a short run), resume of a finished run, and the usage errors.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli_cases.sh

# A short demo run with two seeds.
"$cli" train --demo --out "$tmp/run" --seeds 1111,1112 --max-epochs 2 --quiet --save-labels >"$tmp/out" 2>"$tmp/err"
check "train --demo exits 0" "[ $? -eq 0 ]"
for f in model.safetensors metrics.json results.csv train_log.jsonl labels.jsonl config.json run.json data.npz \
         seed-1111/model.safetensors seed-1111/checkpoint.safetensors seed-1112/result.json; do
  check "train writes $f" "[ -s '$tmp/run/$f' ]"
done
check "table printed" "grep -q 'Mult_acc_2' '$tmp/out' && grep -q 'mean±std' '$tmp/out'"
check "metrics.json has the summary" "grep -q '\"summary\"' '$tmp/run/metrics.json' && grep -q '\"std\"' '$tmp/run/metrics.json'"
check "results.csv: header, 2 runs, mean_std" "[ \$(wc -l < '$tmp/run/results.csv') -eq 4 ] && grep -q '^self_mm,mean_std,\"(' '$tmp/run/results.csv'"
check "results.csv: the reference's criterions, Loss last" "head -1 '$tmp/run/results.csv' | grep -q '^Model,Seed,Mult_acc_2,Mult_acc_3,Mult_acc_5,F1_score,MAE,Corr,Loss$'"
check "result.json: reported and raw values" "grep -q '\"raw\"' '$tmp/run/seed-1111/result.json' && grep -q '\"Loss\"' '$tmp/run/seed-1111/result.json'"
check "train_log has batch, step and epoch lines of both seeds" \
  "grep -q '\"type\":\"batch\",\"seed\":1112' '$tmp/run/train_log.jsonl' && grep -q '\"type\":\"step\"' '$tmp/run/train_log.jsonl' && grep -q '\"type\":\"epoch\",\"seed\":1111,\"epoch\":2' '$tmp/run/train_log.jsonl'"
check "train_log epoch lines carry label correlations (SIMS)" "grep -q '\"label_corr\"' '$tmp/run/train_log.jsonl'"
check "labels.jsonl has 4 epochs (2 seeds x 2)" "[ \$(wc -l < '$tmp/run/labels.jsonl') -eq 4 ] && grep -q '\"vision\":\[' '$tmp/run/labels.jsonl'"
check "labels.jsonl carries the correlation with the human labels" "[ \$(grep -c '\"label_corr\":{\"T\"' '$tmp/run/labels.jsonl') -eq 4 ]"

# Resuming a finished run retrains nothing and gives the same table.
cp "$tmp/out" "$tmp/out1"
"$cli" train --resume "$tmp/run" --quiet >"$tmp/out" 2>"$tmp/err"
check "resume of a finished run" "[ $? -eq 0 ] && cmp -s '$tmp/out' '$tmp/out1'"

# test and predict on the saved data
"$cli" test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" >"$tmp/out" 2>"$tmp/err"
check "test prints JSON metrics" "[ $? -eq 0 ] && grep -q '\"split\": \"test\"' '$tmp/out' && grep -q '\"Corr\"' '$tmp/out' && grep -q '\"raw\": {\"Mult_acc_2\"' '$tmp/out'"
"$cli" test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --split valid --batch 7 >"$tmp/out" 2>"$tmp/err"
check "test --split valid" "[ $? -eq 0 ] && grep -q '\"n\": 128' '$tmp/out'"
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --out "$tmp/pred.csv" 2>"$tmp/err"
check "predict writes every test sample" "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/pred.csv') -eq 129 ] && head -1 '$tmp/pred.csv' | grep -q '^id,M,T,A,V,label$'"
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --split train --index 3 >"$tmp/out" 2>"$tmp/err"
check "predict one sample" "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/out') -eq 2 ] && grep -q '^demo_train\\\$_\\\$3,' '$tmp/out'"
# the same sample alone or in a batch gives the same numbers (up to float32
# summation order: the batch runs BERT at its own longest text)
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --split train --out "$tmp/all.csv" 2>"$tmp/err"
check "batch size 1 equals in-batch" "sed -n 5p '$tmp/all.csv' | awk -F, -v one=\"\$(sed -n 2p '$tmp/out')\" '
  BEGIN { split(one, o, \",\") } { bad = (\$1 != o[1]); for (i = 2; i <= 5; i++) { d = \$i - o[i]; if (d < 0) d = -d; if (d > 1e-5) bad = 1 } exit bad }'"

# usage errors
"$cli" train --out "$tmp/x" >/dev/null 2>"$tmp/err"; check "train without --data: exit 2" "[ $? -eq 2 ] && grep -q -- '--data' '$tmp/err'"
"$cli" train --demo --seeds 1,x >/dev/null 2>"$tmp/err"; check "bad --seeds: exit 2" "[ $? -eq 2 ]"
"$cli" train --demo --out "$tmp/z" --bert tests/fixtures/shared/bert/bert_en >/dev/null 2>"$tmp/err"
check "--demo refuses --bert (it was ignored): exit 2" "[ $? -eq 2 ] && grep -q -- '--bert' '$tmp/err' && [ ! -e '$tmp/z' ]"
"$cli" train --resume "$tmp/run" --preset mosi >/dev/null 2>"$tmp/err"; check "--resume with settings: exit 2" "[ $? -eq 2 ]"
"$cli" train --resume "$tmp/nothing" >/dev/null 2>"$tmp/err"; check "--resume of no run: exit 1" "[ $? -eq 1 ] && grep -q 'run.json' '$tmp/err'"
"$cli" train --data /nonexistent.pkl --out "$tmp/y" >/dev/null 2>"$tmp/err"; check "missing data: exit 1 naming it" "[ $? -eq 1 ] && grep -q 'nonexistent.pkl' '$tmp/err'"
"$cli" train --demo --out "$tmp/z" --set nope=1 >/dev/null 2>"$tmp/err"; check "bad --set: exit 2" "[ $? -eq 2 ] && grep -q nope '$tmp/err'"
"$cli" train --demo --out "$tmp/z" --set num_attention_heads=3 >/dev/null 2>"$tmp/err"
check "--demo config validated before anything is written: exit 2" "[ $? -eq 2 ] && grep -q 'multiple of the number of heads' '$tmp/err' && [ ! -e '$tmp/z' ]"
"$cli" test --model "$tmp/run/model.safetensors" >/dev/null 2>"$tmp/err"; check "test without --data: exit 2" "[ $? -eq 2 ]"
"$cli" test --model "$tmp/run/data.npz" --data "$tmp/run/data.npz" >/dev/null 2>"$tmp/err"; check "test with a non-model: exit 1" "[ $? -eq 1 ]"
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --index 999 >/dev/null 2>"$tmp/err"; check "predict --index out of range: exit 2" "[ $? -eq 2 ] && grep -q '999' '$tmp/err'"
"$cli" predict --model "$tmp/run/model.safetensors" --data tests/fixtures/io/mmsa_p4.pkl --out "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
check "predict failing half-way leaves no --out file" "[ $? -eq 1 ] && grep -q 'audio width' '$tmp/err' && [ ! -e '$tmp/bad.csv' ]"
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --out "$tmp/no/such/dir.csv" >/dev/null 2>"$tmp/err"
check "predict --out in a missing directory: exit 1 naming it" "[ $? -eq 1 ] && grep -q 'no/such/dir.csv' '$tmp/err'"
"$cli" test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --split dev >/dev/null 2>"$tmp/err"; check "bad --split: exit 2" "[ $? -eq 2 ]"
for c in "train --demo --out $tmp/t" "test --model $tmp/run/model.safetensors --data $tmp/run/data.npz" \
         "predict --model $tmp/run/model.safetensors --data $tmp/run/data.npz"; do
  # shellcheck disable=SC2086
  "$cli" $c --threads 5000 >/dev/null 2>"$tmp/err"
  check "${c%% *} --threads beyond 1024: exit 2" "[ $? -eq 2 ] && grep -q -- '--threads expects a number in \[0, 1024\]' '$tmp/err'"
done
