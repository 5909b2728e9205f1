/* error.h -- status + message plumbing shared by every module.
 *
 * Internal functions report failure by returning a selfmm_status and writing a
 * message into a selfmm_error (the same struct the public API hands out). Handles
 * embed one selfmm_error as their "last error"; public entry points pass &h->err.
 */
#ifndef SM_CORE_ERROR_H
#define SM_CORE_ERROR_H

#include "selfmm.h"

#if defined(__GNUC__)
#define SM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SM_PRINTF(a, b)
#endif

/* Record status + formatted message in err (err may be NULL) and return status. */
selfmm_status sm_error(selfmm_error *err, selfmm_status status, const char *fmt, ...)
    SM_PRINTF(3, 4);
/* Prefix the message already in err with "prefix: " and return status (the status
 * of the failure being reported; err may be NULL). */
selfmm_status sm_error_prefix(selfmm_error *err, selfmm_status status, const char *fmt, ...)
    SM_PRINTF(3, 4);
/* Clear err (status OK, empty message). */
void sm_error_clear(selfmm_error *err);
/* Copy src into dst (either may be NULL) and return src's status. */
selfmm_status sm_error_copy(selfmm_error *dst, const selfmm_error *src);

/* Evaluate a status expression; return it from the caller when it failed. */
#define SM_TRY(expr)                                  \
    do {                                              \
        selfmm_status sm_try_st_ = (expr);            \
        if (sm_try_st_ != SELFMM_OK) return sm_try_st_; \
    } while (0)

#endif
