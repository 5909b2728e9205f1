# cli_cases.sh -- sourced by the tests/test_cli*.sh scripts: data-driven cases for
# selfmm-cli (libzip regress style). The script sets $cli (the binary), $tmp (a
# scratch directory) and $suite (the prefix of the test names, e.g. "cli info").

# case_in NAME EXIT STREAM(out|err) EXPECTED_SUBSTRING STDIN -- ARGS...
# Runs "$cli ARGS" with printf's STDIN format as standard input, checks the exit
# code and (when not empty) that the substring appears on the stream; prints one
# "ok"/"not ok" line.
case_in() {
  name=$1 want_rc=$2 stream=$3 want=$4 input=$5
  shift 6
  # shellcheck disable=SC2059
  printf "$input" | "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    echo "# $name: exit $rc, expected $want_rc"; sed 's/^/#   /' "$tmp/err" | head -5
    echo "not ok - $suite $name"; return
  fi
  if [ -n "$want" ] && ! grep -qF -- "$want" "$tmp/$stream"; then
    echo "# $name: std$stream lacks '$want':"; sed 's/^/#   /' "$tmp/$stream" | head -5
    echo "not ok - $suite $name"; return
  fi
  echo "ok - $suite $name"
}

# case_ NAME EXIT STREAM EXPECTED_SUBSTRING -- ARGS...: the same with empty input.
case_() {
  n_=$1 r_=$2 s_=$3 w_=$4
  shift 5
  case_in "$n_" "$r_" "$s_" "$w_" "" -- "$@"
}

# check NAME CONDITION: evaluate a shell condition, print "ok"/"not ok"; on failure
# show the end of $tmp/err (the last command's standard error, by convention).
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; sed 's/^/# /' "$tmp/err" 2>/dev/null | tail -8; fi; }
