#!/bin/sh
# run_tests.sh BUILD_DIR -- run every test binary in BUILD_DIR/tests from the source
# root, add up their "ok"/"not ok" lines, and end with "N passed, N failed".
# A binary that crashes, times out or exits non-zero without a "not ok" line
# counts as one more failure, and so does a test that cannot run at all (a script
# without the executable bit, a TESTS name that matches no test): a test that is
# silently skipped cannot fail. Exit status: 0 only when nothing failed.
# TESTS="name ..." runs a subset; TEST_TIMEOUT (seconds, default 1200) bounds each binary.
set -u
build=${1:-build}
timeout_s=${TEST_TIMEOUT:-1200}
passed=0
failed=0
ran=" "
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$build"/tests/test_* tests/test_*.sh; do
  [ -e "$t" ] || continue # a pattern that matched nothing
  name=$(basename "$t" .sh)
  if [ -n "${TESTS:-}" ]; then
    case " $TESTS " in *" $name "*) ;; *) continue ;; esac
  fi
  ran="$ran$name "
  if [ ! -x "$t" ]; then
    echo "  not ok - $t is not executable"
    failed=$((failed + 1))
    printf '%-32s %4d passed %4d failed\n' "$name" 0 1
    continue
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
for name in ${TESTS:-}; do
  case "$ran" in *" $name "*) ;; *)
    echo "  not ok - TESTS names '$name': no such test"
    failed=$((failed + 1)) ;;
  esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
