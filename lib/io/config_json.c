/* config_json.c -- selfmm_config to and from JSON (cJSON), and BERT's config.json.
 * Every key goes through the table in core/config_keys.h. */
#include "core/config_keys.h"
#include "core/atomic_file.h"
#include "core/file.h"
#include "core/json.h"
#include "core/quote.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set one key of cfg from a JSON value (type and range checked); `what` (the file or
 * "config") prefixes every message. */
static selfmm_status set_from_json(selfmm_config *cfg, const sm_key *k, const cJSON *v,
                                   const char *what, selfmm_error *err)
{
    const char *want = NULL;
    selfmm_status st = SELFMM_OK;
    switch (k->type) {
    case SM_KEY_INT:
    case SM_KEY_INT64:
    case SM_KEY_DOUBLE:
        if (!cJSON_IsNumber(v)) want = k->type == SM_KEY_DOUBLE ? "a number" : "an integer";
        else st = sm_config_put_number(cfg, k, v->valuedouble, err);
        break;
    case SM_KEY_BOOL:
        if (!cJSON_IsBool(v)) want = "true or false";
        else st = sm_config_put_number(cfg, k, cJSON_IsTrue(v) ? 1 : 0, err);
        break;
    case SM_KEY_DATASET: {
        const int kind = cJSON_IsString(v) ? sm_dataset_kind_parse(v->valuestring) : -1;
        if (!cJSON_IsString(v)) want = "a string (sims, mosi or mosei)";
        else if (kind < 0)
            return sm_error(err, SELFMM_ERR_RANGE,
                            "%s: config key \"%s\": expected sims, mosi or mosei, got %s", what,
                            k->name, SM_Q(v->valuestring));
        else st = sm_config_put_number(cfg, k, kind, err);
        break;
    }
    case SM_KEY_PRECISION: {
        const int prec = cJSON_IsString(v) ? sm_precision_parse(v->valuestring) : -1;
        if (!cJSON_IsString(v)) want = "a string (fp32 or bf16)";
        else if (prec < 0)
            return sm_error(err, SELFMM_ERR_RANGE, "%s: config key \"%s\": expected fp32 or bf16, got %s",
                            what, k->name, SM_Q(v->valuestring));
        else st = sm_config_put_number(cfg, k, prec, err);
        break;
    }
    case SM_KEY_STRING:
        if (!cJSON_IsString(v)) want = "a string";
        else st = sm_config_put_string(cfg, k, v->valuestring, err);
        break;
    }
    if (want)
        return sm_error(err, SELFMM_ERR_TYPE, "%s: config key \"%s\": expected %s, got %s", what,
                        k->name, want, sm_json_type_name(v));
    return st == SELFMM_OK ? st : sm_error_prefix(err, st, "%s", what);
}

static selfmm_status apply_object(selfmm_config *cfg, const cJSON *root, const char *what,
                                  selfmm_error *err)
{
    if (!cJSON_IsObject(root))
        return sm_error(err, SELFMM_ERR_TYPE, "%s: expected a JSON object, got %s", what,
                        sm_json_type_name(root));
    selfmm_config tmp = *cfg; /* all or nothing */
    for (const cJSON *v = root->child; v; v = v->next) {
        const sm_key *k = sm_config_key_find(v->string);
        if (!k)
            return sm_error(err, SELFMM_ERR_UNKNOWN_KEY, "%s: unknown config key %s", what,
                            SM_Q(v->string ? v->string : ""));
        SM_TRY(set_from_json(&tmp, k, v, what, err));
    }
    if (selfmm_config_validate(&tmp, err) != SELFMM_OK)
        return sm_error_prefix(err, SELFMM_ERR_RANGE, "%s", what);
    *cfg = tmp;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_config_from_json(selfmm_config *cfg, const char *json,
                                                 selfmm_error *err)
{
    if (!cfg || !json) return sm_error(err, SELFMM_ERR_INVALID_ARG, "config from JSON: NULL argument");
    cJSON *root;
    SM_TRY(sm_json_parse(json, "config", &root, err));
    selfmm_status st = apply_object(cfg, root, "config", err);
    cJSON_Delete(root);
    return st;
}

SELFMM_API selfmm_status selfmm_config_load_json(selfmm_config *cfg, const char *path,
                                                 selfmm_error *err)
{
    if (!cfg || !path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "config load: NULL argument");
    cJSON *root;
    SM_TRY(sm_json_read_file(path, &root, err));
    selfmm_status st = apply_object(cfg, root, path, err);
    cJSON_Delete(root);
    return st;
}

/* cJSON prints doubles with 15 digits and accepts them when they are "close": not
 * a round trip (1/3 or 2^53 come back changed). Print the shortest form that
 * strtod reads back exactly instead. */
static cJSON *exact_number(double v)
{
    char buf[40];
    if (!isfinite(v)) return cJSON_CreateNull();
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return cJSON_CreateRaw(buf);
}

static cJSON *exact_int(long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_CreateRaw(buf);
}

SELFMM_API selfmm_status selfmm_config_to_json(const selfmm_config *cfg, char **json,
                                               selfmm_error *err)
{
    if (!cfg || !json) return sm_error(err, SELFMM_ERR_INVALID_ARG, "config to JSON: NULL argument");
    cJSON *root = cJSON_CreateObject();
    if (!root) return sm_error(err, SELFMM_ERR_NOMEM, "config to JSON: out of memory");
    int ok = 1;
    for (const sm_key *k = sm_config_keys; k->name && ok; k++) {
        const char *field = (const char *)cfg + k->offset;
        cJSON *v = NULL;
        switch (k->type) {
        case SM_KEY_INT: v = exact_int(*(const int *)field); break;
        case SM_KEY_INT64: v = exact_int((long long)*(const int64_t *)field); break;
        case SM_KEY_DOUBLE: v = exact_number(*(const double *)field); break;
        case SM_KEY_BOOL: v = cJSON_CreateBool(*(const int *)field != 0); break;
        case SM_KEY_DATASET: {
            const char *name = sm_dataset_kind_name(*(const int *)field);
            v = cJSON_CreateString(name ? name : "?");
            break;
        }
        case SM_KEY_PRECISION: {
            const char *name = sm_precision_name(*(const int *)field);
            v = cJSON_CreateString(name ? name : "?");
            break;
        }
        case SM_KEY_STRING: v = cJSON_CreateString(field); break;
        }
        ok = v && cJSON_AddItemToObject(root, k->name, v);
        if (v && !ok) cJSON_Delete(v); /* not attached to root: ours to free */
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return sm_error(err, SELFMM_ERR_NOMEM, "config to JSON: out of memory");
    /* cJSON allocates with malloc by default, so selfmm_free_string (free) matches. */
    *json = text;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_config_save_json(const selfmm_config *cfg, const char *path,
                                                 selfmm_error *err)
{
    char *text;
    SM_TRY(selfmm_config_to_json(cfg, &text, err));
    size_t n = strlen(text);
    text[n] = '\n'; /* replace the terminator: write n + 1 bytes ending in a newline */
    selfmm_status st = sm_atomic_write(path, text, n + 1, err);
    free(text);
    return st;
}

/* ---- HuggingFace config.json ---- */

/* The keys read from config.json (our key names are HuggingFace's), each checked as
 * the same key in our own JSON is. Older configs lack the optional ones: those keep
 * transformers' BertConfig defaults (layer_norm_eps, initializer_range) or cfg's. */
static const struct {
    const char *key;
    int required;
} bert_keys[] = {
    {"vocab_size", 1},          {"hidden_size", 1},
    {"num_hidden_layers", 1},   {"num_attention_heads", 1},
    {"intermediate_size", 1},   {"max_position_embeddings", 1},
    {"type_vocab_size", 0},     {"layer_norm_eps", 0},
    {"hidden_dropout_prob", 0}, {"attention_probs_dropout_prob", 0},
    {"initializer_range", 0},
};

SELFMM_API selfmm_status selfmm_config_load_bert_json(selfmm_config *cfg, const char *path,
                                                      selfmm_error *err)
{
    if (!cfg || !path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "BERT config: NULL argument");
    char file[SELFMM_PATH_MAX];
    if (sm_is_dir(path)) SM_TRY(sm_path_join(file, sizeof file, path, "config.json", err));
    else if (snprintf(file, sizeof file, "%s", path) >= (int)sizeof file)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "path too long");
    cJSON *root;
    SM_TRY(sm_json_read_file(file, &root, err));
    selfmm_status st = SELFMM_OK;
    selfmm_config tmp = *cfg;
    tmp.layer_norm_eps = 1e-12;     /* transformers' BertConfig defaults */
    tmp.initializer_range = 0.02;
    if (!cJSON_IsObject(root)) st = sm_error(err, SELFMM_ERR_TYPE, "%s: not a JSON object", file);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (st == SELFMM_OK && mt && (!cJSON_IsString(mt) || strcmp(mt->valuestring, "bert") != 0))
        st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: model_type is not \"bert\"", file);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (st == SELFMM_OK && act && (!cJSON_IsString(act) || strcmp(act->valuestring, "gelu") != 0))
        st = sm_error(err, SELFMM_ERR_UNSUPPORTED,
                      "%s: hidden_act %s is not supported (only \"gelu\", the erf form)", file,
                      cJSON_IsString(act) ? SM_Q(act->valuestring) : sm_json_type_name(act));
    for (size_t i = 0; i < sizeof bert_keys / sizeof *bert_keys && st == SELFMM_OK; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, bert_keys[i].key);
        if (v) st = set_from_json(&tmp, sm_config_key_find(bert_keys[i].key), v, file, err);
        else if (bert_keys[i].required)
            st = sm_error(err, SELFMM_ERR_MISSING, "%s: BERT config lacks \"%s\"", file, bert_keys[i].key);
    }
    cJSON_Delete(root);
    SM_TRY(st);
    if (tmp.hidden_size % tmp.num_attention_heads != 0)
        return sm_error(err, SELFMM_ERR_RANGE,
                        "%s: hidden_size %d is not a multiple of num_attention_heads %d", file,
                        tmp.hidden_size, tmp.num_attention_heads);
    *cfg = tmp;
    return SELFMM_OK;
}
