#!/bin/sh
# test_cli_tune.sh -- selfmm-cli tune (issue 13): the search space against the
# reference's own definition (tests/fixtures/tune/space.json, dumped by
# tools/gen_tune_space.py from config/config_tune.py), reproducible and distinct
# draws, the study's files (results.csv, test_results.csv, best_config.json that
# `train --config` trains again to the same result, one train folder per trial),
# kill -9 during trial 3 and rerun (the same files as an undisturbed study, no
# trial twice), the folder lock, a longer study continuing a shorter one,
# settings that do not match, bad arguments, and trials spread over mpirun's ranks.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
. tests/cli_cases.sh
suite="cli tune"

keys="batch_size,learning_rate_bert,learning_rate_audio,learning_rate_video,learning_rate_other,\
weight_decay_bert,weight_decay_other,weight_decay_audio,weight_decay_video,a_lstm_hidden_size,\
v_lstm_hidden_size,text_out,audio_out,video_out,a_lstm_dropout,v_lstm_dropout,t_bert_dropout,\
post_fusion_dim,post_text_dim,post_audio_dim,post_video_dim,post_fusion_dropout,post_text_dropout,\
post_audio_dropout,post_video_dropout,H"
metrics="Mult_acc_2,Mult_acc_3,Mult_acc_5,F1_score,MAE,Corr,Loss"
# (one thread: on a busy machine OpenMP's waiting threads slow two-thread runs tenfold)
study() { "$cli" tune --demo --quiet --trials 4 --max-epochs 3 --seed 7 --threads 1 "$@"; }
# a column of a CSV by header name
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }
# a number of a JSON file written by cJSON ("key":<tab>value)
num() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([^,]*\),\{0,1\}\$/\1/p" "$1" | head -n 1; }

# ---- the space is the reference's ----
"$cli" tune --space >"$tmp/space.json" 2>"$tmp/err"
check "tune --space is the reference's space, byte for byte" "cmp -s '$tmp/space.json' tests/fixtures/tune/space.json"

# ---- draws: reproducible from --seed, distinct, a longer study begins with a shorter one ----
"$cli" tune --demo --trials 4 --seed 7 --plan >"$tmp/p1" 2>"$tmp/err"
"$cli" tune --demo --trials 4 --seed 7 --plan >"$tmp/p2" 2>>"$tmp/err"
"$cli" tune --demo --trials 4 --seed 8 --plan >"$tmp/p3" 2>>"$tmp/err"
check "--plan: the same --seed draws the same trials" "[ -s '$tmp/p1' ] && cmp -s '$tmp/p1' '$tmp/p2'"
check "another --seed draws other trials" "! cmp -s '$tmp/p1' '$tmp/p3'"
check "--plan's header: Trial and the reference's d_paras" "[ \"\$(head -n 1 '$tmp/p1')\" = 'Trial,$keys' ]"
"$cli" tune --demo --trials 3000 --seed 7 --plan >"$tmp/p4" 2>"$tmp/err"
check "3000 trials, no two alike" "[ \$(tail -n +2 '$tmp/p4' | cut -d, -f2- | sort -u | wc -l) -eq 3000 ]"
check "a longer study begins with the trials of a shorter one" "[ \"\$(head -n 5 '$tmp/p4')\" = \"\$(cat '$tmp/p1')\" ]"
check "every value drawn is one of the reference's choices" \
  "[ \"\$(tail -n +2 '$tmp/p4' | cut -d, -f2 | sort -u | tr '\n' ' ')\" = '16 32 ' ] &&
   [ \"\$(tail -n +2 '$tmp/p4' | cut -d, -f4 | sort -u | tr '\n' ' ')\" = '0.0001 0.001 0.005 ' ] &&
   [ \"\$(tail -n +2 '$tmp/p4' | cut -d, -f9 | sort -u | tr '\n' ' ')\" = '0.0 0.001 0.01 ' ] &&
   [ \"\$(tail -n +2 '$tmp/p4' | cut -d, -f23 | sort -u | tr '\n' ' ')\" = '0.0 0.1 ' ]"

# ---- a study of 4 trials ----
study --out "$tmp/ref" >"$tmp/out" 2>"$tmp/err"
check "tune --demo --trials 4 --max-epochs 3" "[ $? -eq 0 ] && grep -q '^best trial [1-4] of 4' '$tmp/out'"
check "results.csv: Trial, every key, the validation metrics under MMSA's names" \
  "[ \"\$(head -n 1 '$tmp/ref/results.csv')\" = 'Trial,$keys,$metrics' ]"
check "test_results.csv: the same columns" \
  "[ \"\$(head -n 1 '$tmp/ref/test_results.csv')\" = 'Trial,$keys,$metrics' ]"
check "4 rows, trials 1 to 4 once each" "[ \"\$(col '$tmp/ref/results.csv' Trial | tr '\n' ' ')\" = '1 2 3 4 ' ]"
check "4 distinct configs" "[ \$(tail -n +2 '$tmp/ref/results.csv' | cut -d, -f2-27 | sort -u | wc -l) -eq 4 ] &&
  [ \$(for t in 1 2 3 4; do md5sum <'$tmp/ref/trial-00'\$t/config.json; done | sort -u | wc -l) -eq 4 ]"
check "the rows are the trials --plan draws" "[ \"\$(cut -d, -f1-27 '$tmp/ref/results.csv')\" = \"\$(cat '$tmp/p1')\" ]"
ok_trials=1
for t in 1 2 3 4; do
  d="$tmp/ref/trial-00$t"
  for f in trial.json config.json run.json metrics.json results.csv report.html model.safetensors seed-1111/result.json; do
    [ -e "$d/$f" ] || { echo "# $d/$f missing" >"$tmp/err"; ok_trials=0; }
  done
  # the row's keys are what the trial trained with
  for k in batch_size learning_rate_audio a_lstm_hidden_size post_fusion_dim post_text_dropout; do
    want=$(awk -F, -v t=$t 'NR == t + 1' "$tmp/ref/results.csv" | cut -d, -f$(head -n 1 "$tmp/ref/results.csv" | tr ',' '\n' | grep -n "^$k\$" | cut -d: -f1))
    got=$(num "$d/config.json" "$k")
    awk -v a="$want" -v b="$got" 'BEGIN { exit !(a + 0 == b + 0) }' ||
      { echo "# trial $t: $k $want in results.csv, $got in config.json" >"$tmp/err"; ok_trials=0; }
  done
  # the score: round(valid Loss * 100, 2) of the best epoch (one seed), the valid
  # metrics of the seed's result.json, not its test metrics
  vl=$(num "$d/seed-1111/result.json" valid_loss)
  row=$(awk -F, -v t=$t 'NR == t + 1 { print $NF }' "$tmp/ref/results.csv")
  trow=$(awk -F, -v t=$t 'NR == t + 1 { print $NF }' "$tmp/ref/test_results.csv")
  tl=$(num "$d/seed-1111/result.json" test_loss)
  awk -v v="$vl" -v r="$row" -v tl="$tl" -v tr="$trow" \
    'BEGIN { d = v * 100 - r; e = tl * 100 - tr; exit !(d < 0.0051 && d > -0.0051 && e < 0.0051 && e > -0.0051) }' ||
    { echo "# trial $t: valid Loss $vl / $row, test Loss $tl / $trow" >"$tmp/err"; ok_trials=0; }
done
check "one train folder per trial; rows hold what each trained with and its validation Loss x100" "[ $ok_trials -eq 1 ]"
best=$(tail -n +2 "$tmp/ref/results.csv" | sort -t, -k34,34g -k1,1n | head -n 1 | cut -d, -f1)
check "best_config.json is the config of the trial with the lowest validation Loss" \
  "cmp -s '$tmp/ref/best_config.json' '$tmp/ref/trial-00$best/config.json' && grep -q '^best trial $best of 4' '$tmp/out'"
check "tune.json: the keys, trials, seed, key_eval" \
  "grep -q '\"trials\":[[:space:]]*4' '$tmp/ref/tune.json' && grep -q '\"seed\":[[:space:]]*7' '$tmp/ref/tune.json' &&
   grep -q '\"key_eval\":[[:space:]]*\"Loss\"' '$tmp/ref/tune.json' && grep -q '\"t_bert_dropout\", \"post_fusion_dim\"' '$tmp/ref/tune.json'"
check "report.html: the tune view" "grep -q 'hyper-parameter search' '$tmp/ref/report.html'"
"$cli" train --config "$tmp/ref/best_config.json" --data "$tmp/ref/data.npz" --out "$tmp/again" --quiet >/dev/null 2>"$tmp/err"
check "train --config best_config.json takes it and trains the best trial again, to the same results" \
  "[ $? -eq 0 ] && cmp -s '$tmp/again/results.csv' '$tmp/ref/trial-00$best/results.csv'"
"$cli" train --resume "$tmp/ref/trial-002" --quiet >/dev/null 2>"$tmp/err"
check "a trial folder is a train folder (train --resume summarises it)" "[ $? -eq 0 ]"

# ---- rerunning a finished study trains nothing ----
cp "$tmp/ref/results.csv" "$tmp/results.before"
study --out "$tmp/ref" >/dev/null 2>"$tmp/err"
check "rerunning a finished study: the same results, no trial again" \
  "[ $? -eq 0 ] && cmp -s '$tmp/results.before' '$tmp/ref/results.csv' && [ \$(grep -c . '$tmp/ref/trial-001/train_log.jsonl') -gt 0 ]"
"$cli" tune --resume "$tmp/ref" --quiet >/dev/null 2>"$tmp/err"
check "tune --resume DIR of a finished study" "[ $? -eq 0 ] && cmp -s '$tmp/results.before' '$tmp/ref/results.csv'"

# ---- kill -9 during trial 3, then run again ----
"$cli" tune --demo --quiet --trials 4 --max-epochs 3 --seed 7 --threads 1 --out "$tmp/k" >/dev/null 2>&1 &
bg=$!
# until trial 3 has a checkpoint (its first epoch is done; a trial takes a fraction of a
# second, so a shell loop without sleeps), then freeze it: it keeps its locks
i=0
while [ ! -e "$tmp/k/trial-003/seed-1111/checkpoint.safetensors" ] && [ $i -lt 3000000 ] && kill -0 "$bg" 2>/dev/null; do
  i=$((i + 1))
done
kill -STOP "$bg"
study --out "$tmp/k" >/dev/null 2>"$tmp/err"; rc=$?
check "a second tune into the folder fails at once, naming the holder's pid" \
  "[ $rc -eq 1 ] && grep -q 'in use by another run (pid $bg)' '$tmp/err'"
"$cli" train --resume "$tmp/k/trial-003" --quiet >/dev/null 2>"$tmp/err"; rc=$?
check "the trial being trained is held too" "[ $rc -eq 1 ] && grep -q '(pid $bg)' '$tmp/err'"
kill -9 "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=
check "killed during trial 3" \
  "[ -e '$tmp/k/trial-002/trial.json' ] && [ -e '$tmp/k/trial-003/seed-1111/checkpoint.safetensors' ] &&
   [ ! -e '$tmp/k/trial-003/trial.json' ] && [ ! -e '$tmp/k/trial-004' ]"
cp "$tmp/k/trial-001/trial.json" "$tmp/t1.before"
cp "$tmp/k/trial-003/seed-1111/train_log.jsonl" "$tmp/t3.log"
"$cli" tune --demo --trials 4 --max-epochs 3 --seed 7 --threads 1 --out "$tmp/k" >/dev/null 2>"$tmp/err"
check "run again, it finishes" "[ $? -eq 0 ] && grep -q '2 of 4 trials finished before; 2 to go' '$tmp/err'"
check "4 rows, no trial twice, and the same as the undisturbed study" \
  "[ \"\$(col '$tmp/k/results.csv' Trial | tr '\n' ' ')\" = '1 2 3 4 ' ] &&
   cmp -s '$tmp/k/results.csv' '$tmp/ref/results.csv' && cmp -s '$tmp/k/test_results.csv' '$tmp/ref/test_results.csv' &&
   cmp -s '$tmp/k/best_config.json' '$tmp/ref/best_config.json'"
# (an epoch line carries its wall-clock times: the same line is the same epoch, not a rerun)
grep '"type":"epoch"' "$tmp/t3.log" | head -n 1 >"$tmp/t3.epoch1"
check "finished trials kept, trial 3 continued from its checkpoint" \
  "cmp -s '$tmp/t1.before' '$tmp/k/trial-001/trial.json' && [ -s '$tmp/t3.epoch1' ] &&
   grep -qxF -f '$tmp/t3.epoch1' '$tmp/k/trial-003/seed-1111/train_log.jsonl' &&
   [ \$(grep -c '\"type\":\"epoch\"' '$tmp/k/trial-003/seed-1111/train_log.jsonl') -eq 3 ]"
check "no temp file left" "[ -z \"\$(find '$tmp/k' -name '*.tmp.*')\" ]"

# ---- a longer study continues a shorter one ----
"$cli" tune --demo --quiet --trials 5 --max-epochs 3 --seed 7 --threads 1 --out "$tmp/k" >/dev/null 2>"$tmp/err"
check "--trials 5 into a study of 4 trains one more trial" \
  "[ $? -eq 0 ] && [ \"\$(col '$tmp/k/results.csv' Trial | tr '\n' ' ')\" = '1 2 3 4 5 ' ] &&
   [ \"\$(head -n 5 '$tmp/k/results.csv')\" = \"\$(cat '$tmp/ref/results.csv')\" ] && grep -q '\"trials\":[[:space:]]*5' '$tmp/k/tune.json'"

# ---- settings that are not the study's ----
case_ "another --seed: exit 1" 1 err "holds the study of --seed 7, not 8" -- tune --demo --trials 4 --max-epochs 3 --seed 8 --out "$tmp/ref"
case_ "another --max-epochs: exit 1" 1 err "has max_epochs = 3, these settings give 2" -- tune --demo --trials 4 --max-epochs 2 --seed 7 --out "$tmp/ref"
case_ "another --set: exit 1" 1 err "has H = 1, these settings give 2" -- tune --demo --trials 4 --max-epochs 3 --seed 7 --set H=2 --out "$tmp/ref"
case_ "another --seeds: exit 1" 1 err "holds a study with other --seeds" -- tune --demo --trials 4 --max-epochs 3 --seed 7 --seeds 1112 --out "$tmp/ref"
case_ "fewer --trials: exit 1" 1 err "holds a study of 4 trials: give --trials 4 or more" -- tune --demo --trials 3 --max-epochs 3 --seed 7 --out "$tmp/ref"
case_ "into a train folder: exit 1" 1 err "holds a run's files (run.json) but no tune.json" -- tune --demo --trials 2 --out "$tmp/again"
case_ "--resume of a folder without a study: exit 1" 1 err "no tune.json" -- tune --resume "$tmp/again"
cp -r "$tmp/ref/trial-001" "$tmp/swap"
rm -rf "$tmp/ref/trial-001" && cp -r "$tmp/ref/trial-002" "$tmp/ref/trial-001"
case_ "a trial folder holding another trial: exit 1" 1 err "holds a trial with" -- tune --resume "$tmp/ref"
rm -rf "$tmp/ref/trial-001" && mv "$tmp/swap" "$tmp/ref/trial-001"

# ---- bad arguments ----
case_ "--trials 0: exit 2" 2 err "--trials expects a number in [1, 10000]" -- tune --demo --trials 0
case_ "--trials 10001: exit 2" 2 err "--trials expects a number in [1, 10000]" -- tune --demo --trials 10001
case_ "--trials x: exit 2" 2 err "--trials expects" -- tune --demo --trials x
case_ "--seed -1: exit 2" 2 err "--seed expects a number" -- tune --demo --seed -1
case_ "--seed 0x10: exit 2" 2 err "--seed expects a number" -- tune --demo --seed 0x10
case_ "--seeds 1,1: exit 2" 2 err "seed 1 is given twice" -- tune --demo --seeds 1,1 --out "$tmp/bad"
case_ "--seeds x: exit 2" 2 err "--seeds expects numbers" -- tune --demo --seeds x --out "$tmp/bad"
case_ "--max-epochs -1: exit 2" 2 err "--max-epochs expects" -- tune --demo --max-epochs -1
case_ "--set of an unknown key: exit 2" 2 err "nope" -- tune --demo --set nope=1 --out "$tmp/bad"
case_ "no --data: exit 2" 2 err "--data PATH is required" -- tune --out "$tmp/bad"
case_ "no --out: exit 2" 2 err "--out DIR is required" -- tune --data x.npz
case_ "--demo with --data: exit 2" 2 err "--demo generates its data" -- tune --demo --data x.npz
case_ "--resume with --seed: exit 2" 2 err "--resume DIR takes the study's settings" -- tune --resume "$tmp/ref" --seed 3
case_ "--space with more: exit 2" 2 err "--space takes no other option" -- tune --space --demo
case_ "an unknown option: exit 2" 2 err "unknown or incomplete option '--nope'" -- tune --nope
case_ "a missing dataset: exit 1" 1 err "nothing.npz" -- tune --data "$tmp/nothing.npz" --out "$tmp/bad" --quiet
case_ "--help: exit 0" 0 out "usage: selfmm-cli tune" -- tune --help

# ---- under mpirun: trials spread over the ranks, the same files as one process ----
if command -v mpirun >/dev/null 2>&1; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  "$cli" tune --demo --quiet --trials 3 --max-epochs 2 --threads 1 --out "$tmp/m1" >/dev/null 2>"$tmp/err"
  mpirun --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader -x ASAN_OPTIONS=detect_leaks=0 -np 3 \
    "$cli" tune --demo --trials 3 --max-epochs 2 --threads 1 --out "$tmp/m3" >"$tmp/out" 2>"$tmp/err"
  check "mpirun -np 3 tune: one trial per rank" \
    "[ $? -eq 0 ] && grep -q 'rank 1 (.*): trial 2/3 (trial-002)' '$tmp/err' && grep -q 'rank 2 (.*): trial 3/3 (trial-003)' '$tmp/err'"
  check "the same results.csv, test_results.csv and best_config.json as one process" \
    "cmp -s '$tmp/m1/results.csv' '$tmp/m3/results.csv' && cmp -s '$tmp/m1/test_results.csv' '$tmp/m3/test_results.csv' &&
     cmp -s '$tmp/m1/best_config.json' '$tmp/m3/best_config.json'"
else
  echo "not ok - $suite mpirun is installed (openmpi-bin: make deps-test)"
fi
