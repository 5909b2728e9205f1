/* error.c -- status strings, error messages, version queries. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

selfmm_status sm_error(selfmm_error *err, selfmm_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

selfmm_status sm_error_prefix(selfmm_error *err, selfmm_status status, const char *fmt, ...)
{
    if (!err) return status;
    char prefix[SELFMM_ERROR_MESSAGE_SIZE / 2]; /* at most half: the old message keeps room */
    char old[SELFMM_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    return sm_error(err, status, "%s: %s", prefix, old); /* the end of a long message is cut */
}

void sm_error_clear(selfmm_error *err)
{
    if (!err) return;
    err->status = SELFMM_OK;
    err->message[0] = '\0';
}

selfmm_status sm_error_copy(selfmm_error *dst, const selfmm_error *src)
{
    if (!src) return SELFMM_ERR_INVALID_ARG;
    if (dst && dst != src) *dst = *src;
    return src->status;
}

SELFMM_API const char *selfmm_strerror(selfmm_status status)
{
    switch (status) {
    case SELFMM_OK: return "success";
    case SELFMM_ERR_INVALID_ARG: return "invalid argument";
    case SELFMM_ERR_NOMEM: return "out of memory";
    case SELFMM_ERR_NOT_FOUND: return "not found";
    case SELFMM_ERR_IO: return "input/output error";
    case SELFMM_ERR_PARSE: return "parse error";
    case SELFMM_ERR_FORMAT: return "malformed file";
    case SELFMM_ERR_UNSUPPORTED: return "unsupported";
    case SELFMM_ERR_UNKNOWN_KEY: return "unknown key";
    case SELFMM_ERR_TYPE: return "wrong type";
    case SELFMM_ERR_RANGE: return "value out of range";
    case SELFMM_ERR_SHAPE: return "shape mismatch";
    case SELFMM_ERR_MISSING: return "missing item";
    case SELFMM_ERR_DATA: return "bad data";
    case SELFMM_ERR_NUMERIC: return "numerical failure";
    case SELFMM_ERR_STATE: return "call out of order";
    case SELFMM_ERR_BACKEND: return "backend failure";
    case SELFMM_ERR_INTERRUPTED: return "interrupted";
    case SELFMM_ERR_COLLECTIVE: return "collective operation failed";
    }
    return "unknown status";
}

SELFMM_API unsigned selfmm_version_number(void) { return SELFMM_VERSION_NUMBER; }
SELFMM_API const char *selfmm_version_string(void) { return SELFMM_VERSION_STRING; }

SELFMM_API void selfmm_free_string(char *s) { free(s); }
