#!/bin/sh
# deps.sh -- install the Debian packages a target needs, when they are missing.
#   tools/deps.sh build   compiler, OpenBLAS (OpenMP build), oneDNN 2.6, cJSON, libzip, utf8proc
#   tools/deps.sh fuzz    clang and its libFuzzer runtime
#   tools/deps.sh tools   python3-torch, python3-numpy, python3-pandas (fixture generators in tools/)
#   tools/deps.sh test    what `make check` needs besides the build: xmllint (libxml2-utils),
#                         headless Chromium and a font for it (tests/test_cli_report.sh renders
#                         the HTML report; SELFMM_NO_BROWSER=1 leaves the browser out), and
#                         Open MPI (tests/test_mpi.c runs selfmm-cli under mpirun; selfmm-cli
#                         itself builds without it and loads libmpi.so.40 only under mpirun)
# Does nothing when everything is installed; installs with apt-get when run as root;
# otherwise prints the command to run and fails.
set -eu
case "${1:-build}" in
  build) pkgs="gcc make pkg-config libopenblas-openmp-dev libdnnl-dev libcjson-dev libzip-dev libutf8proc-dev zlib1g-dev" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
  tools) pkgs="python3-torch python3-numpy python3-pandas" ;;
  test)  pkgs="libxml2-utils openmpi-bin libopenmpi-dev"
         [ "${SELFMM_NO_BROWSER:-0}" = 1 ] || pkgs="$pkgs chromium fonts-dejavu-core" ;;
  *) echo "usage: $0 build|fuzz|tools|test" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages:$missing" >&2
  echo "install them with: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true   # a stale or absent index is fine when the archive is reachable
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
