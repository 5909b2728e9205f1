/* harness.h -- the test harness: each test binary runs named test functions and
 * prints one "ok - name" or "not ok - name" line per test (TAP-like); details go on
 * "# " lines. tests/run_tests.sh adds the lines of every binary up. A binary exits
 * non-zero when any test failed, so a failure can never go unnoticed. */
#ifndef SELFMM_TEST_HARNESS_H
#define SELFMM_TEST_HARNESS_H

#include "selfmm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_passed, h_failed, h_cur_failed;
static const char *h_cur = "";

static void h_failf(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("# %s:%d: [%s] ", file, line, h_cur);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    h_cur_failed = 1;
}

static void h_run(const char *name, void (*fn)(void))
{
    h_cur = name;
    h_cur_failed = 0;
    fn();
    if (h_cur_failed) printf("not ok - %s\n", name), h_failed++;
    else printf("ok - %s\n", name), h_passed++;
    fflush(stdout);
}

static int h_finish(void)
{
    printf("# %d passed, %d failed\n", h_passed, h_failed);
    return h_failed ? 1 : 0;
}

#define TEST(name) static void name(void)
#define RUN(name) h_run(#name, name)

#define CHECK(cond) \
    do { if (!(cond)) h_failf(__FILE__, __LINE__, "check failed: %s", #cond); } while (0)
#define CHECK_MSG(cond, ...) \
    do { if (!(cond)) h_failf(__FILE__, __LINE__, __VA_ARGS__); } while (0)
/* Stop the current test (return) when cond fails: for preconditions. */
#define REQUIRE(cond) \
    do { if (!(cond)) { h_failf(__FILE__, __LINE__, "required: %s", #cond); return; } } while (0)
#define CHECK_INT(a, b) \
    do { long long h_a = (long long)(a), h_b = (long long)(b); \
         if (h_a != h_b) h_failf(__FILE__, __LINE__, "%s = %lld, expected %lld", #a, h_a, h_b); } while (0)
#define CHECK_STR(a, b) \
    do { const char *h_a = (a), *h_b = (b); \
         if (!h_a || !h_b || strcmp(h_a, h_b) != 0) \
             h_failf(__FILE__, __LINE__, "%s = \"%s\", expected \"%s\"", #a, h_a ? h_a : "(null)", \
                     h_b ? h_b : "(null)"); } while (0)
/* haystack contains needle */
#define CHECK_CONTAINS(hay, needle) \
    do { const char *h_h = (hay), *h_n = (needle); \
         if (!h_h || !strstr(h_h, h_n)) \
             h_failf(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", h_h ? h_h : "(null)", h_n); } while (0)
/* A call that must succeed: shows the status and message on failure. */
#define CHECK_OK(expr, errmsg) \
    do { selfmm_status h_st = (expr); \
         if (h_st != SELFMM_OK) h_failf(__FILE__, __LINE__, "%s -> %s: %s", #expr, \
                                        selfmm_strerror(h_st), (errmsg)); } while (0)
#define REQUIRE_OK(expr, errmsg) \
    do { selfmm_status h_st = (expr); \
         if (h_st != SELFMM_OK) { h_failf(__FILE__, __LINE__, "%s -> %s: %s", #expr, \
                                          selfmm_strerror(h_st), (errmsg)); return; } } while (0)
#define CHECK_STATUS(expr, want) \
    do { selfmm_status h_st = (expr), h_w = (want); \
         if (h_st != h_w) h_failf(__FILE__, __LINE__, "%s -> %s, expected %s", #expr, \
                                  selfmm_strerror(h_st), selfmm_strerror(h_w)); } while (0)
/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, rtol, atol) \
    do { double h_a = (a), h_b = (b); \
         if (!(fabs(h_a - h_b) <= (atol) + (rtol) * fabs(h_b))) \
             h_failf(__FILE__, __LINE__, "%s = %.9g, expected %.9g (rtol %g, atol %g)", #a, h_a, h_b, \
                     (double)(rtol), (double)(atol)); } while (0)

/* Compare arrays elementwise with |got - want| <= atol + rtol * |want|; reports the
 * worst element. Returns 1 when all match. */
__attribute__((unused)) static int h_close_f32(const char *file, int line, const char *what, const float *got,
                       const float *want, long long n, double rtol, double atol)
{
    long long worst = -1, bad = 0;
    double worst_excess = 0;
    for (long long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double lim = atol + rtol * fabs((double)want[i]);
        if (!(d <= lim)) {
            bad++;
            double ex = isfinite(d) ? d - lim : INFINITY;
            if (worst < 0 || ex > worst_excess) worst = i, worst_excess = ex;
        }
    }
    if (bad) {
        h_failf(file, line, "%s: %lld of %lld elements differ; worst [%lld] got %.9g want %.9g", what,
                bad, n, worst, (double)got[worst], (double)want[worst]);
        return 0;
    }
    return 1;
}
#define CHECK_CLOSE_F32(what, got, want, n, rtol, atol) \
    h_close_f32(__FILE__, __LINE__, what, got, want, n, rtol, atol)

/* Path of a build product (CLI, examples) from the SELFMM_BUILD variable the
 * runner sets. */
__attribute__((unused)) static const char *h_build_path(char *buf, size_t cap, const char *rel)
{
    const char *b = getenv("SELFMM_BUILD");
    snprintf(buf, cap, "%s/%s", b && *b ? b : "build", rel);
    return buf;
}

#endif
