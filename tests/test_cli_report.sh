#!/bin/sh
# test_cli_report.sh -- `selfmm-cli report` and the report.html `train` writes.
#
# Each page must:
#  - be well-formed XML (`xmllint --noout`: the page is written as polyglot HTML, so
#    an unescaped '<' or '&' from a file breaks it) and pass `xmllint --html` (whose
#    HTML 4 parser calls the HTML5 and SVG elements unknown: "Tag svg invalid" is
#    accepted for exactly the elements we write, every other message fails);
#  - refer to nothing outside the file (no http(s) or protocol-relative src/href,
#    no @import, no url(), no <script>, <link>, <img>, <iframe>, <object>);
#  - render in headless Chromium to a PNG that is not blank (tests/png_stats.c:
#    many colours, ink on more than 5% of the pixels) with nothing on the console
#    (Chromium logs console messages on stderr as ":CONSOLE" lines with
#    --enable-logging=stderr; our pages have no script, so any such line is an error).
# Negative controls show each check can fail: a page with a console error and a
# missing image, a blank page, a badly escaped page, a page with a network link.
# Chromium comes from tools/deps.sh test (make check runs it). Without it the test
# fails, unless SELFMM_NO_BROWSER=1 says to leave the browser checks out.
set -u
BUILD=${SELFMM_BUILD:-build}
CLI="$BUILD/selfmm-cli"
FIX=tests/fixtures/report/tune
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
  d=$1
  shift
  if "$@" >"$tmp/check.out" 2>&1; then ok "$d"; else notok "$d"; sed 's/^/    /' "$tmp/check.out" | head -20; fi
}

# ---- the checks -------------------------------------------------------------------
html_ok() { # html_ok FILE: well-formed, valid enough, self-contained
  xmllint --noout "$1" || return 1
  xmllint --html --noout "$1" 2>"$tmp/lint" || return 1
  if grep 'error' "$tmp/lint" |
     grep -v -E 'Tag (main|section|header|footer|details|summary|svg|g|line|polyline|path|circle|rect|text) invalid' \
       >"$tmp/lint.bad"; then
    cat "$tmp/lint.bad"
    return 1
  fi
  if grep -n -i -E '(src|href|action|xlink:href)[[:space:]]*=[[:space:]]*["'"'"']?[[:space:]]*([a-z][a-z0-9+.-]*:|//)' "$1" |
     grep -v -E 'href="#' | head -5 | grep .; then
    echo "$1: a reference outside the file"
    return 1
  fi
  if grep -n -i -E '@import|url\(|<script|<link|<img|<iframe|<object|<embed' "$1" | head -5 | grep .; then
    echo "$1: loads something"
    return 1
  fi
  return 0
}

have_browser=0
if command -v chromium >/dev/null 2>&1; then
  have_browser=1
elif [ "${SELFMM_NO_BROWSER:-0}" = 1 ]; then
  echo "# chromium is not installed; SELFMM_NO_BROWSER=1: the browser checks are left out"
else
  notok "chromium is not installed (run 'tools/deps.sh test' as root; SELFMM_NO_BROWSER=1 leaves the browser checks out)"
fi

PNG_STATS="$tmp/png_stats"
${CC:-cc} -O2 -std=c11 -o "$PNG_STATS" tests/png_stats.c -lz || notok "tests/png_stats.c does not build"

shot_n=0
shoot() { # shoot HTML PNG: render; stderr log in PNG.log
  shot_n=$((shot_n + 1))
  prof="$tmp/profile-$shot_n"
  mkdir -p "$prof/home"
  # a fresh profile and home: nothing from the machine's browser state takes part
  HOME="$prof/home" XDG_CONFIG_HOME="$prof/home" XDG_CACHE_HOME="$prof/home" \
  timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$prof" --enable-logging=stderr --v=0 --hide-scrollbars \
    --window-size=1200,3000 --screenshot="$2" "file://$(realpath "$1")" >"$2.out" 2>"$2.log" </dev/null
  rc=$?
  rm -rf "$prof"
  return $rc
}

renders() { # renders HTML: a non-blank screenshot and a quiet console
  [ "$have_browser" = 1 ] || return 0
  png="$tmp/shot-$(basename "$(dirname "$1")")-$(basename "$1" .html).png"
  shoot "$1" "$png" || { echo "chromium failed"; tail -5 "$png.log"; return 1; }
  [ -s "$png" ] || { echo "no screenshot"; return 1; }
  if grep ':CONSOLE' "$png.log"; then echo "console messages above"; return 1; fi
  stats=$("$PNG_STATS" "$png") || return 1
  set -- $stats
  echo "screenshot ${1}x${2}: $3 colours, ink ${4} per mille"
  [ "$3" -ge 50 ] && [ "$4" -ge 50 ]
}

# ---- negative controls: the checks can fail ----------------------------------------
cat >"$tmp/escaped_badly.html" <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>x</title></head><body><p>Corr<b>&"</p></body></html>
EOF
cat >"$tmp/network.html" <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>x</title></head><body><p><a href="https://example.org/">x</a></p></body></html>
EOF
fails() { if "$@"; then return 1; else return 0; fi; }
check "control: a badly escaped page fails the HTML checks" fails html_ok "$tmp/escaped_badly.html"
check "control: a page with a network link fails the HTML checks" fails html_ok "$tmp/network.html"
if [ "$have_browser" = 1 ]; then
  mkdir -p "$tmp/controls"
  printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>x</title></head><body><img src="missing.png"/><script>console.error("boom")</script></body></html>\n' >"$tmp/controls/console.html"
  printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>x</title></head><body></body></html>\n' >"$tmp/controls/blank.html"
  check "control: a console error is caught" fails renders "$tmp/controls/console.html"
  check "control: a blank page is caught" fails renders "$tmp/controls/blank.html"
fi

# ---- a demo run: train writes report.html ------------------------------------------
run="$tmp/run"
check "train --demo (2 seeds, 3 epochs, --save-labels) exits 0" \
  "$CLI" train --demo --seeds 1111,1112 --max-epochs 3 --save-labels --quiet --out "$run"
check "train wrote report.html" test -s "$run/report.html"
check "the run's report passes the HTML checks" html_ok "$run/report.html"
check "the run's report renders (Chromium)" renders "$run/report.html"
check "the report has a section per seed and the test table" \
  sh -c "grep -q 'id=\"seed-1111\"' '$run/report.html' && grep -q 'id=\"seed-1112\"' '$run/report.html' && grep -q 'Test metrics' '$run/report.html'"
# every "(mean, std)" of results.csv's last row appears as "mean &#177; std"
means_match() {
  tail -n 1 "$run/results.csv" | grep -o '"([0-9.]*, [0-9.]*)"' | tr -d '"()' | tr -d ' ' >"$tmp/means"
  [ "$(wc -l <"$tmp/means")" -ge 6 ] || return 1
  while IFS=, read -r m s; do # results.csv prints Python's repr (63.9), the page 2 decimals (63.90)
    m=$(printf '%.2f' "$m") s=$(printf '%.2f' "$s")
    grep -q "<td>$m &#177; $s</td>" "$run/report.html" || { echo "missing $m ± $s"; return 1; }
  done <"$tmp/means"
}
check "the test table shows results.csv's mean ± std" means_match
best_marked() { # each seed's best epoch (result.json) is the marked one
  for s in 1111 1112; do
    b=$(grep '"best_epoch"' "$run/seed-$s/result.json" | tr -dc '0-9')
    grep -q "best epoch $b</text>" "$run/report.html" || { echo "seed $s: best epoch $b not marked"; return 1; }
  done
}
check "the best epoch of each seed is marked" best_marked
check "the generated-label charts are drawn (labels.jsonl)" grep -q 'Generated labels: mean |y_m' "$run/report.html"
check "label_corr is drawn (the demo has human unimodal labels)" grep -q 'label_corr: generated vs human' "$run/report.html"
check "report DIR --out FILE: the same page again" sh -c "'$CLI' report '$run' --out '$tmp/again.html' >/dev/null && cmp '$tmp/again.html' '$run/report.html'"
check "report DIR prints the file it wrote" sh -c "test \"\$('$CLI' report '$run')\" = '$run/report.html'"

# ---- without --save-labels, one epoch ------------------------------------------------
one="$tmp/one"
check "train --demo --max-epochs 1 (no --save-labels)" "$CLI" train --demo --max-epochs 1 --quiet --out "$one"
check "the page says the run was trained without --save-labels" grep -q 'trained without <code>--save-labels</code>' "$one/report.html"
check "the one-epoch report passes the HTML checks" html_ok "$one/report.html"
check "the one-epoch report renders (Chromium)" renders "$one/report.html"

# ---- hostile names, nulls, a run still going -------------------------------------------
odd="$tmp/odd"
cp -r "$run" "$odd"
rm -f "$odd/metrics.json" "$odd/report.html" "$odd/seed-1112/result.json" "$odd/train_log.jsonl" "$odd/labels.jsonl" "$odd/seed-1112/labels.jsonl"
# a metric named C<&"'> (JSON-escaped), null values, invalid UTF-8, a broken line
sed -i -e 's/"Corr":/"C<\&\\"'"'"'>":/g' -e 's/"train_loss":[-0-9.e]*/"train_loss":null/' \
  -e 's/"MAE":[-0-9.e]*/"MAE":null/' "$odd/seed-1111/train_log.jsonl"
printf '{"type":"epoch","seed":1111,"epoch":\n\377\376garbage\n' >>"$odd/seed-1111/train_log.jsonl"
sed -i 's/"Mult_acc_2":/"M2\\u0001\\u00ff":/' "$odd/seed-1111/result.json"
check "report of a run with odd names, nulls and an unfinished seed exits 0" "$CLI" report "$odd"
check "that report passes the HTML checks" html_ok "$odd/report.html"
check "the odd metric name is escaped" grep -q 'C&lt;&amp;&quot;&#39;&gt;' "$odd/report.html"
check "the unfinished seed is reported as such" grep -q 'in progress or interrupted' "$odd/report.html"
check "the mean ± std comes from the finished seed (metrics.json absent)" grep -q 'computed here over the finished seeds' "$odd/report.html"
check "that report renders (Chromium)" renders "$odd/report.html"

# ---- a tune folder ---------------------------------------------------------------------
tune="$tmp/tune"
cp -r "$FIX" "$tune"
check "report of the tune fixture exits 0" "$CLI" report "$tune"
check "the tune report passes the HTML checks" html_ok "$tune/report.html"
check "the tune report renders (Chromium)" renders "$tune/report.html"
best_trial() { # the lowest Loss of results.csv is named the best trial
  col=$(head -n 1 "$tune/results.csv" | tr ',' '\n' | grep -n -x 'Loss' | cut -d: -f1)
  want=$(tail -n +2 "$tune/results.csv" | awk -F, -v c="$col" 'NR == 1 || $c < min { min = $c; t = $1 } END { print t }')
  grep -q "<dt>best trial</dt><dd>$want (Loss" "$tune/report.html" || { echo "best trial $want not named"; return 1; }
}
check "the best trial is the lowest Loss" best_trial
cells() { # one strip chart per (varying key, metric)
  nm=7
  nvary=0
  ncol=$(head -n 1 "$tune/results.csv" | tr ',' '\n' | wc -l)
  c=2
  while [ "$c" -le $((ncol - nm)) ]; do
    [ "$(tail -n +2 "$tune/results.csv" | cut -d, -f"$c" | sort -u | wc -l)" -gt 1 ] && nvary=$((nvary + 1))
    c=$((c + 1))
  done
  got=$(grep -c '<div class="cell"><svg' "$tune/report.html")
  [ "$got" -eq $((nvary * nm)) ] || { echo "$got strip charts, want $nvary keys x $nm metrics"; return 1; }
}
check "a strip chart for every varying key and metric" cells
check "a trial report is linked once it exists" sh -c "'$CLI' report '$tune/trial-003' >/dev/null && '$CLI' report '$tune' >/dev/null && grep -q 'href=\"trial-003/report.html\"' '$tune/report.html'"
check "a trial folder renders as a run" html_ok "$tune/trial-003/report.html"
# a key name and a value with markup and invalid UTF-8
sed -i -e '1s/batch_size/batch_<size>\&"x"/' -e '2s/^\([0-9]*\),[0-9]*/\1,3\xff<b>/' "$tune/results.csv"
sed -i 's/"batch_size"/"batch_<size>\&\\"x\\""/' "$tune/tune.json"
check "report of a tune folder with odd names exits 0" "$CLI" report "$tune"
check "that tune report passes the HTML checks" html_ok "$tune/report.html"
check "the odd key name is escaped" grep -q 'batch_&lt;size&gt;&amp;&quot;x&quot;' "$tune/report.html"
mkdir "$tmp/tune-empty"
echo '{"keys": ["batch_size"], "trials": 50, "seed": 1}' >"$tmp/tune-empty/tune.json"
check "a tune folder before its first trial" sh -c "'$CLI' report '$tmp/tune-empty' >/dev/null && grep -q 'No trial has finished yet' '$tmp/tune-empty/report.html'"
check "that page passes the HTML checks" html_ok "$tmp/tune-empty/report.html"

# ---- errors ------------------------------------------------------------------------------
status() { # status WANT COMMAND...: exit status
  want=$1
  shift
  "$@" >/dev/null 2>"$tmp/err"
  got=$?
  [ "$got" -eq "$want" ] || { echo "exit $got, want $want"; cat "$tmp/err"; return 1; }
}
check "report without DIR: usage error (2)" status 2 "$CLI" report
check "report with an unknown option: usage error (2)" status 2 "$CLI" report "$run" --bogus
check "report --help: 0" status 0 "$CLI" report --help
check "report of a missing folder: 1" status 1 "$CLI" report "$tmp/none"
mkdir "$tmp/plain"
check "report of a folder that is neither: 1" status 1 "$CLI" report "$tmp/plain"
check "report into an unwritable place: 1" status 1 "$CLI" report "$run" --out "$tmp/none/x.html"
# a report that cannot be written does not fail a finished training
mkdir -p "$tmp/warn/report.html"
check "train whose report cannot be written still exits 0" status 0 "$CLI" train --demo --max-epochs 1 --quiet --out "$tmp/warn"
check "... and warns" grep -q 'warning: report.html not written' "$tmp/err"
check "no temp files are left behind" sh -c "! ls '$tmp/warn' '$run' | grep -q '\\.tmp\\.'"
