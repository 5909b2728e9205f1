/* json.h -- every JSON the library reads goes through here (configs, BERT's
 * config.json, tokenizer files, model-file and checkpoint metadata, safetensors
 * headers), so one rule holds for all of them, Python's json module's:
 * - the text is UTF-8, whitespace is space, tab, LF or CR, strings hold no raw
 *   control characters, numbers follow JSON's grammar (decimal: no hex, no leading
 *   zeros, no "1." or ".5", no NaN/Infinity words);
 * - exactly one value, only whitespace after it;
 * - a key repeated in an object takes its LAST value (dict assignment in
 *   json.loads); the earlier ones are dropped from the tree, so every getter
 *   (cJSON returns the first match) sees the value Python sees.
 * Errors name the input, line and column (cJSON itself only checks structure). */
#ifndef SM_CORE_JSON_H
#define SM_CORE_JSON_H

#include "core/error.h"

#include <cJSON.h>

/* Files read as JSON (configs, tokenizer settings) are small; refuse huge ones. */
#define SM_JSON_MAX_BYTES ((size_t)16 << 20)

/* Parse text (all of it); `what` names it in the message ("config", a path).
 * SELFMM_ERR_PARSE with line and column on malformed JSON. */
selfmm_status sm_json_parse(const char *text, const char *what, cJSON **out, selfmm_error *err);
/* The same for text[0..len) (a NUL byte in it is an error, as any control
 * character outside a string). */
selfmm_status sm_json_parse_n(const char *text, size_t len, const char *what, cJSON **out,
                              selfmm_error *err);
/* Read and parse a file (SELFMM_ERR_NOT_FOUND / _IO name it). */
selfmm_status sm_json_read_file(const char *path, cJSON **out, selfmm_error *err);
/* "a number", "a string", ... for messages about a value of the wrong type. */
const char *sm_json_type_name(const cJSON *v);

#endif
