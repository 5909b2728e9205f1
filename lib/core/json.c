/* json.c -- see json.h. */
#include "core/json.h"

#include "core/file.h"

#include <stdlib.h>
#include <string.h>

/* Line and column (1-based) of byte offset `at` in text. */
static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') (*line)++, *col = 1;
        else (*col)++;
    }
}

selfmm_status sm_json_parse(const char *text, const char *what, cJSON **out, selfmm_error *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        return sm_error(err, SELFMM_ERR_PARSE, "%s: malformed JSON at line %d, column %d", what,
                        line, col);
    }
    *out = root;
    return SELFMM_OK;
}

selfmm_status sm_json_read_file(const char *path, cJSON **out, selfmm_error *err)
{
    char *text;
    size_t size;
    SM_TRY(sm_read_file(path, SM_JSON_MAX_BYTES, &text, &size, err));
    /* The parser stops at a NUL byte: what follows one would be ignored unseen. */
    const char *nul = memchr(text, '\0', size);
    selfmm_status st;
    if (nul) {
        int line, col;
        line_col(text, nul, &line, &col);
        st = sm_error(err, SELFMM_ERR_PARSE, "%s: NUL byte in JSON at line %d, column %d", path, line, col);
    } else {
        st = sm_json_parse(text, path, out, err);
    }
    free(text);
    return st;
}

const char *sm_json_type_name(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}
