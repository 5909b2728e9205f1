#!/bin/sh
# test_layout.sh -- the include arrows of docs/ARCHITECTURE.md ("Layout"), checked on
# every source file:
#   lib/: a folder includes only itself and the folders to its left in
#         core -> io -> nn -> text -> data -> model -> train   (and selfmm.h);
#   cli/: selfmm.h, its own headers and lib/core only;
#   examples/: selfmm.h and their own headers only.
# Each rule is one "ok"/"not ok" line; a failure lists every offending include.
set -u
cd "$(dirname "$0")/.."
order="core io nn text data model train"
ok() { echo "ok - $1"; }
failed=0
bad() { echo "not ok - $1"; failed=1; }

# The quoted includes of a file, one per line: "file:line:path".
includes() {
  grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$1" /dev/null |
    sed 's/^\([^:]*:[0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/'
}

rank() {
  i=0
  for f in $order; do
    [ "$f" = "$1" ] && { echo $i; return; }
    i=$((i + 1))
  done
  echo -1
}

# Guard against a rule that checks nothing: every folder of the order must exist.
missing=""
for f in $order; do [ -d "lib/$f" ] || missing="$missing lib/$f"; done
[ -z "$missing" ] && ok "every folder of the order exists" || { echo "# missing:$missing"; bad "every folder of the order exists"; }
extra=""
for d in lib/*/; do
  d=${d%/}; d=${d#lib/}
  [ "$(rank "$d")" -ge 0 ] || extra="$extra lib/$d"
done
[ -z "$extra" ] && ok "every folder of lib/ has its place in the order" ||
  { echo "# not in the order:$extra"; bad "every folder of lib/ has its place in the order"; }

# lib/: no arrow points right.
out=""
n=0
for folder in $order; do
  r=$(rank "$folder")
  for src in lib/"$folder"/*.[ch]; do
    [ -e "$src" ] || continue
    n=$((n + 1))
    for inc in $(includes "$src"); do
      path=${inc##*:}
      case "$path" in
      selfmm.h) continue ;;
      */*) to=${path%%/*} ;;
      *) out="$out
# $inc: not a path from lib/ (folder/name.h)"; continue ;;
      esac
      t=$(rank "$to")
      if [ "$t" -lt 0 ] || [ ! -e "lib/$path" ]; then
        out="$out
# $inc: no such header in lib/"
      elif [ "$t" -gt "$r" ]; then
        out="$out
# $inc: $folder may not include $to (order: $order)"
      fi
    done
  done
done
[ "$n" -gt 50 ] || out="$out
# only $n files under lib/: is this the source tree?"
[ -z "$out" ] && ok "lib/: every include points left ($n files)" || { echo "$out"; bad "lib/: every include points left"; }

# cli/: the public header, its own headers, lib/core.
out=""
for src in cli/*.[ch]; do
  for inc in $(includes "$src"); do
    path=${inc##*:}
    case "$path" in
    selfmm.h) ;;
    core/*) [ -e "lib/$path" ] || out="$out
# $inc: no such header in lib/core" ;;
    */*) out="$out
# $inc: cli/ uses the public API and lib/core only" ;;
    *) [ -e "cli/$path" ] || out="$out
# $inc: not a header of cli/" ;;
    esac
  done
done
[ -z "$out" ] && ok "cli/: only selfmm.h, its own headers and lib/core" || { echo "$out"; bad "cli/: only selfmm.h, its own headers and lib/core"; }

# examples/: the public header and their own headers.
out=""
for src in examples/*.[ch]; do
  for inc in $(includes "$src"); do
    path=${inc##*:}
    case "$path" in
    selfmm.h) ;;
    */*) out="$out
# $inc: examples use the public API only" ;;
    *) [ -e "examples/$path" ] || out="$out
# $inc: not a header of examples/" ;;
    esac
  done
  angle=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(core\|io\|nn\|text\|data\|model\|train\)/' "$src" || true)
  [ -z "$angle" ] || out="$out
# $src: $angle: examples use the public API only"
done
[ -z "$out" ] && ok "examples/: only selfmm.h and their own headers" || { echo "$out"; bad "examples/: only selfmm.h and their own headers"; }
exit $failed
