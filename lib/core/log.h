/* log.h -- the library's only way to say something: the user's log callback. */
#ifndef SM_CORE_LOG_H
#define SM_CORE_LOG_H

#include "core/error.h"

/* Format and hand a message to the callback, if one is set; otherwise nothing. */
void sm_log(selfmm_log_level level, const char *fmt, ...) SM_PRINTF(2, 3);

#endif
