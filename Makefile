# libselfmm -- GNU Makefile (no autotools, no CMake).
#
#   make            library (static + shared), selfmm-cli, examples
#   make check      build and run the test suite; last line "N passed, N failed"
#   make asan       the suite under AddressSanitizer (build-asan/)
#   make ubsan      the suite under UndefinedBehaviorSanitizer (build-ubsan/)
#   make bench      selfmm-cli bench on the SIMS and MOSI shapes
#   make demo       train the embedded demo (runs/demo/)
#   make fuzz       build the libFuzzer targets (clang, ASan + UBSan) and run each for
#                   FUZZ_SECONDS (default 10) over seeds from tests/fixtures, with the
#                   dictionaries of tests/fuzz/dict; fails on any crash, leak or timeout
#   make install / uninstall   PREFIX, DESTDIR and the GNU directory variables
#   make deps       install the Debian build dependencies when missing (root)
#                   (make check also installs the test tools: tools/deps.sh test)
#
# Everything is built under $(O) (default build/), so several builds can coexist.

O ?= build
# V=1 shows the full commands.
Q := $(if $(V),,@)

# The version is written once, in include/selfmm.h.
VERSION_MAJOR := $(shell sed -n 's/^\#define SELFMM_VERSION_MAJOR  *\([0-9][0-9]*\).*/\1/p' include/selfmm.h)
VERSION_MINOR := $(shell sed -n 's/^\#define SELFMM_VERSION_MINOR  *\([0-9][0-9]*\).*/\1/p' include/selfmm.h)
VERSION_PATCH := $(shell sed -n 's/^\#define SELFMM_VERSION_PATCH  *\([0-9][0-9]*\).*/\1/p' include/selfmm.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME := libselfmm.so.$(VERSION_MAJOR)

# GNU directory variables.
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libdir ?= $(exec_prefix)/lib
includedir ?= $(prefix)/include
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
man1dir ?= $(mandir)/man1
docdir ?= $(datarootdir)/doc/libselfmm
pkgconfigdir ?= $(libdir)/pkgconfig
INSTALL ?= install

# OpenBLAS: the OpenMP build, so that it shares libgomp's pool with oneDNN (see
# third_party/README.md). Linked by path with an rpath, since Debian's default
# libopenblas.so.0 alternative is the pthreads build.
OPENBLAS_LIBDIR ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_INCDIR ?= /usr/include/x86_64-linux-gnu/openblas-openmp

CC ?= cc
ARCH ?= -march=native
OPT ?= -O2
CFLAGS ?= $(OPT) -g
SAN ?=
SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all,)
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fopenmp $(ARCH) $(WARN) $(SANFLAGS) \
               -I$(OPENBLAS_INCDIR) -I/usr/include/cjson
LIB_CFLAGS := $(BASE_CFLAGS) -fvisibility=hidden -DSELFMM_BUILDING -Iinclude -Ilib
# The CLI sees the public header and lib/core (the helpers it shares with the library;
# tests/test_layout.sh keeps it to core); the examples see only the public header.
CLI_CFLAGS := $(BASE_CFLAGS) -Iinclude -Ilib
APP_CFLAGS := $(BASE_CFLAGS) -Iinclude
TEST_CFLAGS := $(BASE_CFLAGS) -Iinclude -Ilib -Itests

DEP_LIBS := -L$(OPENBLAS_LIBDIR) -Wl,-rpath,$(OPENBLAS_LIBDIR) -lopenblas -ldnnl -lcjson -lzip \
            -lutf8proc -lz -lgomp -lm -lpthread
LDFLAGS_ALL := $(LDFLAGS) $(SANFLAGS) -fopenmp

LIB_SRC := $(sort $(wildcard lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(O)/examples/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(TEST_SRC:tests/%.c=$(O)/tests/%)
TEST_SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(O)/%.o)

STATIC := $(O)/libselfmm.a
SHARED := $(O)/libselfmm.so.$(VERSION)
CLI := $(O)/selfmm-cli

.PHONY: all lib check asan ubsan bench demo fuzz install uninstall deps deps-tools deps-test clean \
        tests examples
.DEFAULT_GOAL := all

all: deps lib $(CLI) examples
lib: $(STATIC) $(SHARED) $(O)/$(SONAME) $(O)/libselfmm.so
examples: $(EXAMPLES)
tests: $(TEST_BINS)

# ---- dependencies --------------------------------------------------------------
deps:
	@tools/deps.sh build

deps-tools:
	@tools/deps.sh tools

# What the tests need besides the build (xmllint, headless Chromium: see tools/deps.sh).
deps-test:
	@tools/deps.sh test

# ---- compile -------------------------------------------------------------------
$(O)/lib/%.o: lib/%.c $(wildcard lib/*/*.h) include/selfmm.h | check-dnnl
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LIB_CFLAGS) -c $< -o $@

$(O)/cli/%.o: cli/%.c $(wildcard cli/*.h) $(wildcard lib/core/*.h) include/selfmm.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(CLI_CFLAGS) -c $< -o $@

$(O)/tests/support/%.o: tests/support/%.c $(wildcard tests/*.h tests/support/*.h) include/selfmm.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(TEST_CFLAGS) -c $< -o $@

# oneDNN must be the v2 API (Debian's 2.6): fail early with a clear message.
.PHONY: check-dnnl
check-dnnl:
	@printf '#include <oneapi/dnnl/dnnl_version.h>\n#if DNNL_VERSION_MAJOR != 2\n#error "libselfmm needs oneDNN 2.x (Debian libdnnl-dev 2.6); found another major version"\n#endif\n' \
	  | $(CC) -E -x c - -o /dev/null 2>/dev/null || { \
	  echo "error: oneDNN 2.x headers not found or wrong version (need Debian's libdnnl-dev 2.6; run 'make deps')" >&2; exit 1; }

# ---- link ----------------------------------------------------------------------
$(STATIC): $(LIB_OBJ)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LDFLAGS_ALL) $(DEP_LIBS)

$(O)/$(SONAME): $(SHARED)
	$(Q)ln -sf libselfmm.so.$(VERSION) $@

$(O)/libselfmm.so: $(O)/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

$(CLI): $(CLI_OBJ) $(STATIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(STATIC) $(LDFLAGS_ALL) $(DEP_LIBS)

# Examples link the shared library like a user's program would, so they can only
# use exported symbols.
$(O)/examples/%: examples/%.c $(wildcard examples/*.h) include/selfmm.h $(SHARED) $(O)/libselfmm.so
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(APP_CFLAGS) -o $@ $< -L$(O) -lselfmm -Wl,-rpath,$(abspath $(O)) \
	  $(LDFLAGS_ALL) $(DEP_LIBS)

$(O)/tests/%: tests/%.c tests/harness.h $(TEST_SUPPORT_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(STATIC) $(LDFLAGS_ALL) $(DEP_LIBS)

# ---- test ----------------------------------------------------------------------
# Tests run from the source root; each binary prints "ok"/"not ok" lines and the
# runner adds them up. SELFMM_BUILD tells tests where the CLI and examples are.
check: all tests deps-test
	@SELFMM_BUILD=$(O) SELFMM_SAN=$(SAN) tests/run_tests.sh $(O)

asan:
	@$(MAKE) --no-print-directory O=build-asan SAN=address OPT=-O1 check

ubsan:
	@$(MAKE) --no-print-directory O=build-ubsan SAN=undefined OPT=-O1 check

# ---- tools ---------------------------------------------------------------------
bench: all
	$(CLI) bench --preset sims
	$(CLI) bench --preset mosi

demo: all
	$(CLI) train --demo --out runs/demo --overwrite

# libFuzzer targets (clang), built under build-fuzz/ and run on their seeds
# (tests/fuzz/run.sh; FUZZ_RUNS=N runs N executions per target instead).
FUZZ_SECONDS ?= 10
fuzz: deps
	@tools/deps.sh fuzz
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" tests/fuzz/run.sh build-fuzz

# ---- install -------------------------------------------------------------------
install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) \
	  $(DESTDIR)$(man1dir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(docdir)
	$(INSTALL) -m 644 include/selfmm.h $(DESTDIR)$(includedir)/selfmm.h
	$(INSTALL) -m 644 $(STATIC) $(DESTDIR)$(libdir)/libselfmm.a
	$(INSTALL) -m 755 $(SHARED) $(DESTDIR)$(libdir)/libselfmm.so.$(VERSION)
	ln -sf libselfmm.so.$(VERSION) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/libselfmm.so
	$(INSTALL) -m 755 $(CLI) $(DESTDIR)$(bindir)/selfmm-cli
	$(INSTALL) -m 644 docs/selfmm-cli.1 $(DESTDIR)$(man1dir)/selfmm-cli.1
	$(INSTALL) -m 644 docs/MODEL.md docs/REFERENCE.md $(DESTDIR)$(docdir)
	sed -e 's|@prefix@|$(prefix)|g' -e 's|@libdir@|$(libdir)|g' \
	    -e 's|@includedir@|$(includedir)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@OPENBLAS_LIBDIR@|$(OPENBLAS_LIBDIR)|g' pkgconfig/selfmm.pc.in \
	    > $(DESTDIR)$(pkgconfigdir)/selfmm.pc
	chmod 644 $(DESTDIR)$(pkgconfigdir)/selfmm.pc

uninstall:
	rm -f $(DESTDIR)$(includedir)/selfmm.h $(DESTDIR)$(libdir)/libselfmm.a \
	  $(DESTDIR)$(libdir)/libselfmm.so.$(VERSION) $(DESTDIR)$(libdir)/$(SONAME) \
	  $(DESTDIR)$(libdir)/libselfmm.so $(DESTDIR)$(bindir)/selfmm-cli \
	  $(DESTDIR)$(man1dir)/selfmm-cli.1 $(DESTDIR)$(pkgconfigdir)/selfmm.pc \
	  $(DESTDIR)$(docdir)/MODEL.md $(DESTDIR)$(docdir)/REFERENCE.md
	-rmdir $(DESTDIR)$(docdir) 2>/dev/null

# Keep test support objects between runs.
.SECONDARY:

clean:
	rm -rf build build-asan build-ubsan build-fuzz
