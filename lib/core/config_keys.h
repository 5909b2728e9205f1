/* config_keys.h -- the table of every selfmm_config key: name, type, field offset
 * and allowed range. JSON load/save, `--set` and validation all walk this table, so
 * a key exists in exactly one place. */
#ifndef SM_CORE_CONFIG_KEYS_H
#define SM_CORE_CONFIG_KEYS_H

#include "core/error.h"

#include <stddef.h>

typedef enum sm_key_type {
    SM_KEY_INT,      /* int field */
    SM_KEY_INT64,    /* int64_t field */
    SM_KEY_DOUBLE,   /* double field */
    SM_KEY_BOOL,     /* int field holding 0/1; JSON true/false */
    SM_KEY_DATASET,  /* int field holding selfmm_dataset_kind; JSON "sims"|"mosi"|"mosei" */
    SM_KEY_STRING,   /* char[SELFMM_PATH_MAX] field */
    SM_KEY_PRECISION /* int field holding selfmm_precision; JSON "fp32"|"bf16" */
} sm_key_type;

typedef struct sm_key {
    const char *name;
    sm_key_type type;
    size_t offset;
    double min, max;       /* inclusive bounds for numbers */
    int min_open, max_open; /* 1 = that bound is exclusive */
    const char *group;     /* "selfmm", "bert" or "run": for docs and JSON grouping */
} sm_key;

/* The table, terminated by an entry with name == NULL. */
extern const sm_key sm_config_keys[];
const sm_key *sm_config_key_find(const char *name);
/* The names of the dataset kinds ("sims", ...); NULL for a bad value. */
const char *sm_dataset_kind_name(int kind);
int sm_dataset_kind_parse(const char *s); /* -1 when unknown */
/* The names of the precisions ("fp32", "bf16"); NULL for a bad value. */
const char *sm_precision_name(int precision);
int sm_precision_parse(const char *s); /* -1 when unknown */
/* Check one numeric value against a key's range (message names the key). */
selfmm_status sm_config_check_range(const sm_key *k, double v, selfmm_error *err);
/* Store v in k's field of cfg: a whole number for integer keys (SELFMM_ERR_TYPE),
 * within the key's range (SELFMM_ERR_RANGE); bool and dataset keys take 0/1 and the
 * kind. The one place (set by name, JSON) that writes a number into a config. */
/* 1 when key k has the same value in a and b. */
int sm_config_key_equal(const selfmm_config *a, const selfmm_config *b, const sm_key *k);
/* The value of key k as text ("32", "5e-05", "true", "sims", a path), cut to cap. */
void sm_config_key_format(const selfmm_config *cfg, const sm_key *k, char *buf, size_t cap);
selfmm_status sm_config_put_number(selfmm_config *cfg, const sm_key *k, double v, selfmm_error *err);
/* Store a string key's text (SELFMM_ERR_RANGE when longer than SELFMM_PATH_MAX - 1). */
selfmm_status sm_config_put_string(selfmm_config *cfg, const sm_key *k, const char *s, selfmm_error *err);

#endif
