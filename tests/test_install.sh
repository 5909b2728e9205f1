#!/bin/sh
# test_install.sh -- install into a DESTDIR, check SONAME and exported symbols, and
# build a small program with pkg-config against the installed copy (shared and
# --static), then run it.
set -u
build=${SELFMM_BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; }

if make --no-print-directory -s O="$build" install DESTDIR="$tmp/root" PREFIX=/usr >"$tmp/log" 2>&1; then
  ok "install into DESTDIR"
else
  sed 's/^/# /' "$tmp/log" | tail -20; bad "install into DESTDIR"; exit 1
fi
root=$tmp/root
missing=""
for f in usr/include/selfmm.h usr/lib/libselfmm.a usr/lib/libselfmm.so usr/lib/libselfmm.so.0 \
         usr/bin/selfmm-cli usr/share/man/man1/selfmm-cli.1 usr/lib/pkgconfig/selfmm.pc \
         usr/share/doc/libselfmm/MODEL.md usr/share/doc/libselfmm/REFERENCE.md; do
  [ -e "$root/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "installed files present" || { echo "# missing:$missing"; bad "installed files present"; }

soname=$(readelf -d "$root/usr/lib/libselfmm.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libselfmm.so.0" ] && ok "SONAME is libselfmm.so.0" || { echo "# soname '$soname'"; bad "SONAME is libselfmm.so.0"; }

others=$(nm -D --defined-only "$root/usr/lib/libselfmm.so" | awk '{print $3}' | grep -v '^selfmm_' || true)
[ -z "$others" ] && ok "only selfmm_* symbols exported" || { echo "# also exported: $others" | head -5; bad "only selfmm_* symbols exported"; }

cat >"$tmp/prog.c" <<'PROG'
#include <selfmm.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    selfmm_config cfg;
    selfmm_error err = {0};
    if (selfmm_config_preset(&cfg, "mosi", &err) != SELFMM_OK) { puts(err.message); return 1; }
    if (strcmp(selfmm_version_string(), SELFMM_VERSION_STRING) != 0) return 2;
    printf("batch %d %s\n", cfg.batch_size, selfmm_strerror(SELFMM_ERR_SHAPE));
    return 0;
}
PROG
# A sanitizer build installs an instrumented library: the program needs the runtime too.
san=""; [ -n "${SELFMM_SAN:-}" ] && san="-fsanitize=$SELFMM_SAN"
export PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
for mode in shared static; do
  flag=""; [ "$mode" = static ] && flag="--static"
  # shellcheck disable=SC2046
  if cc $san -o "$tmp/prog_$mode" "$tmp/prog.c" $(pkg-config --cflags selfmm) \
       $( [ "$mode" = static ] && echo "-Wl,-Bstatic -lselfmm -Wl,-Bdynamic $(pkg-config --libs --static selfmm | sed 's/-lselfmm//')" \
          || pkg-config --libs selfmm) 2>"$tmp/cc.log" \
     && out=$(LD_LIBRARY_PATH="$root/usr/lib" "$tmp/prog_$mode") && [ "$out" = "batch 32 shape mismatch" ]; then
    ok "pkg-config $mode build and run"
  else
    sed 's/^/# /' "$tmp/cc.log" | head -10; echo "# output: ${out:-}"; bad "pkg-config $mode build and run"
  fi
done
if ldd "$tmp/prog_static" 2>/dev/null | grep -q libselfmm; then bad "static program does not need libselfmm.so"; else ok "static program does not need libselfmm.so"; fi

if make --no-print-directory -s O="$build" uninstall DESTDIR="$tmp/root" PREFIX=/usr >/dev/null 2>&1 \
   && [ -z "$(find "$root" -type f -o -type l)" ]; then
  ok "uninstall removes everything"
else
  find "$root" -type f -o -type l | sed 's/^/# left: /'; bad "uninstall removes everything"
fi
