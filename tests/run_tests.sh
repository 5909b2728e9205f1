#!/bin/sh
# run_tests.sh BUILD_DIR -- run every test binary in BUILD_DIR/tests from the source
# root, add up their "ok"/"not ok" lines, and end with "N passed, N failed".
# A binary that crashes, times out or exits non-zero without a "not ok" line
# counts as one more failure. Exit status: 0 only when nothing failed.
# TESTS="name ..." runs a subset; TEST_TIMEOUT (seconds, default 1200) bounds each binary.
set -u
build=${1:-build}
timeout_s=${TEST_TIMEOUT:-1200}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$build"/tests/test_* tests/test_*.sh; do
  [ -x "$t" ] || continue
  name=$(basename "$t" .sh)
  if [ -n "${TESTS:-}" ]; then
    case " $TESTS " in *" $name "*) ;; *) continue ;; esac
  fi
  start=$(date +%s)
  SELFMM_BUILD="$build" timeout "$timeout_s" "$t" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  p=$(grep -c '^ok ' "$log")
  f=$(grep -c '^not ok ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc" >>"$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
    sed "s/^/  /" "$log"
  fi
  printf '%-32s %4d passed %4d failed  %ss\n' "$name" "$p" "$f" "$secs"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
