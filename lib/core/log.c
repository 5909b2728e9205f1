/* log.c -- process-wide log callback (sqlite's SQLITE_CONFIG_LOG, in small). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static selfmm_log_fn g_log_fn;
static void *g_log_user;

SELFMM_API void selfmm_set_log_callback(selfmm_log_fn fn, void *user)
{
    g_log_fn = fn;
    g_log_user = user;
}

void sm_log(selfmm_log_level level, const char *fmt, ...)
{
    selfmm_log_fn fn = g_log_fn;
    if (!fn) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fn(level, buf, g_log_user);
}
