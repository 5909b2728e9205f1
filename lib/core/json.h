/* json.h -- cJSON with errors that name the file, line and column. */
#ifndef SM_CORE_JSON_H
#define SM_CORE_JSON_H

#include "core/error.h"

#include <cJSON.h>

/* Files read as JSON (configs, tokenizer settings) are small; refuse huge ones. */
#define SM_JSON_MAX_BYTES ((size_t)16 << 20)

/* Parse text (all of it); `what` names it in the message ("config", a path).
 * SELFMM_ERR_PARSE with line and column on malformed JSON. */
selfmm_status sm_json_parse(const char *text, const char *what, cJSON **out, selfmm_error *err);
/* Read and parse a file (SELFMM_ERR_NOT_FOUND / _IO name it). */
selfmm_status sm_json_read_file(const char *path, cJSON **out, selfmm_error *err);
/* "a number", "a string", ... for messages about a value of the wrong type. */
const char *sm_json_type_name(const cJSON *v);

#endif
