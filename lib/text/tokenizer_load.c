/* tokenizer_load.c -- selfmm_tokenizer_load: a vocab.txt, or a HuggingFace BERT
 * folder with vocab.txt and optionally tokenizer_config.json,
 * special_tokens_map.json and added_tokens.json.
 *
 * The settings this tokenizer implements are read (do_lower_case, strip_accents,
 * tokenize_chinese_chars). Everything else that would change the ids of a
 * BertTokenizer is refused instead of being silently ignored: other special-token
 * strings, never_split, additional or added tokens, do_basic_tokenize false, or a
 * tokenizer class that is not BERT's WordPiece. Keys that do not affect the ids
 * (model_max_length, padding side, ...) are ignored. */
#include "text/tokenizer.h"

#include "core/file.h"
#include "core/json.h"
#include "core/quote.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VOCAB_BYTES ((size_t)1 << 30)

/* Settings found in the folder's files: -1 = not given. */
typedef struct folder_cfg {
    int lower, strip_accents, chinese_chars;
} folder_cfg;

static selfmm_status read_json(const char *path, cJSON **out, selfmm_error *err)
{
    cJSON *root;
    SM_TRY(sm_json_read_file(path, &root, err));
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sm_error(err, SELFMM_ERR_TYPE, "%s: expected a JSON object", path);
    }
    *out = root;
    return SELFMM_OK;
}

static selfmm_status get_bool(const cJSON *root, const char *key, int null_ok, int *out,
                              const char *path, selfmm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) return SELFMM_OK;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return SELFMM_OK;
    }
    if (null_ok && cJSON_IsNull(v)) return SELFMM_OK;
    return sm_error(err, SELFMM_ERR_TYPE, "%s: \"%s\" must be a boolean%s, not %s", path, key,
                    null_ok ? " or null" : "", sm_json_type_name(v));
}

/* A special token as a string, or as an AddedToken object {"content": ...}. */
static const char *token_content(const cJSON *v)
{
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(c)) return c->valuestring;
    }
    return NULL;
}

static int is_special(const char *s)
{
    for (int k = 0; k < SM_TOK_NSPECIAL; k++)
        if (!strcmp(s, sm_special_tokens[k])) return 1;
    return 0;
}

/* unk_token ... mask_token must be BERT's own; additional_special_tokens empty. */
static selfmm_status check_special_tokens(const cJSON *root, const char *path, selfmm_error *err)
{
    static const char *const keys[SM_TOK_NSPECIAL] = {"unk_token", "sep_token", "pad_token",
                                                      "cls_token", "mask_token"};
    for (int k = 0; k < SM_TOK_NSPECIAL; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
        if (!v || cJSON_IsNull(v)) continue;
        const char *s = token_content(v);
        if (!s)
            return sm_error(err, SELFMM_ERR_TYPE, "%s: \"%s\" must be a string, not %s", path,
                            keys[k], sm_json_type_name(v));
        if (strcmp(s, sm_special_tokens[k]) != 0)
            return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                            "%s: \"%s\" is %s; only BERT's \"%s\" is supported", path, keys[k], SM_Q(s),
                            sm_special_tokens[k]);
    }
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(root, "additional_special_tokens");
    if (extra && !cJSON_IsNull(extra) && !(cJSON_IsArray(extra) && cJSON_GetArraySize(extra) == 0))
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: \"additional_special_tokens\" is not supported (must be empty)", path);
    return SELFMM_OK;
}

static selfmm_status check_tokenizer_config(const cJSON *root, const char *path, folder_cfg *cfg,
                                            selfmm_error *err)
{
    SM_TRY(get_bool(root, "do_lower_case", 0, &cfg->lower, path, err));
    SM_TRY(get_bool(root, "strip_accents", 1, &cfg->strip_accents, path, err));
    SM_TRY(get_bool(root, "tokenize_chinese_chars", 0, &cfg->chinese_chars, path, err));
    int basic = 1;
    SM_TRY(get_bool(root, "do_basic_tokenize", 0, &basic, path, err));
    if (!basic)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: \"do_basic_tokenize\": false is not supported", path);
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(root, "never_split");
    if (ns && !cJSON_IsNull(ns) && !(cJSON_IsArray(ns) && cJSON_GetArraySize(ns) == 0))
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: \"never_split\" is not supported (must be null or empty)", path);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "tokenizer_class");
    if (cls && !cJSON_IsNull(cls)) {
        static const char *const ok[] = {"BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer",
                                         "DistilBertTokenizerFast"};
        int found = 0;
        for (size_t i = 0; cJSON_IsString(cls) && i < sizeof ok / sizeof ok[0]; i++)
            found |= !strcmp(cls->valuestring, ok[i]);
        if (!found)
            return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                            "%s: \"tokenizer_class\" %s is not BERT's WordPiece tokenizer", path,
                            cJSON_IsString(cls) ? SM_Q(cls->valuestring) : sm_json_type_name(cls));
    }
    /* Newer files list the special tokens again, by id. */
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "added_tokens_decoder");
    if (dec && !cJSON_IsNull(dec)) {
        if (!cJSON_IsObject(dec))
            return sm_error(err, SELFMM_ERR_TYPE, "%s: \"added_tokens_decoder\" must be an object",
                            path);
        const cJSON *e;
        cJSON_ArrayForEach(e, dec)
        {
            const char *s = token_content(e);
            if (!s || !is_special(s))
                return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                                "%s: added token %s (%s) is not supported; only BERT's special "
                                "tokens are",
                                path, SM_Q(e->string), s ? SM_Q(s) : "?");
        }
    }
    return check_special_tokens(root, path, err);
}

static selfmm_status check_added_tokens(const cJSON *root, const char *path, selfmm_error *err)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        if (!is_special(e->string))
            return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: added token %s is not supported",
                            path, SM_Q(e->string));
    }
    return SELFMM_OK;
}

/* Read and check one optional JSON file of the folder. */
static selfmm_status folder_json(const char *dir, const char *name, folder_cfg *cfg, selfmm_error *err)
{
    char path[SELFMM_PATH_MAX];
    SM_TRY(sm_path_join(path, sizeof path, dir, name, err));
    if (!sm_exists(path)) return SELFMM_OK;
    cJSON *root = NULL;
    SM_TRY(read_json(path, &root, err));
    selfmm_status st;
    if (!strcmp(name, "tokenizer_config.json")) st = check_tokenizer_config(root, path, cfg, err);
    else if (!strcmp(name, "special_tokens_map.json")) st = check_special_tokens(root, path, err);
    else st = check_added_tokens(root, path, err);
    cJSON_Delete(root);
    return st;
}

static int resolve(selfmm_switch forced, int from_file, int fallback)
{
    if (forced == SELFMM_SWITCH_ON) return 1;
    if (forced == SELFMM_SWITCH_OFF) return 0;
    return from_file >= 0 ? from_file : fallback;
}

SELFMM_API selfmm_status selfmm_tokenizer_load(const char *path,
                                               const selfmm_tokenizer_options *opt,
                                               selfmm_tokenizer **out, selfmm_error *err)
{
    if (!path || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "tokenizer load: NULL argument");
    selfmm_tokenizer_options o = {SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO};
    if (opt) o = *opt;
    const selfmm_switch sw[3] = {o.lowercase, o.strip_accents, o.chinese_chars};
    for (int i = 0; i < 3; i++)
        if ((int)sw[i] < SELFMM_SWITCH_AUTO || (int)sw[i] > SELFMM_SWITCH_OFF)
            return sm_error(err, SELFMM_ERR_INVALID_ARG, "tokenizer load: bad option value %d",
                            (int)sw[i]);

    folder_cfg cfg = {-1, -1, -1};
    char vocab_path[SELFMM_PATH_MAX];
    if (sm_is_dir(path)) {
        SM_TRY(sm_path_join(vocab_path, sizeof vocab_path, path, "vocab.txt", err));
        SM_TRY(folder_json(path, "tokenizer_config.json", &cfg, err));
        SM_TRY(folder_json(path, "special_tokens_map.json", &cfg, err));
        SM_TRY(folder_json(path, "added_tokens.json", &cfg, err));
    } else {
        if (strlen(path) >= sizeof vocab_path)
            return sm_error(err, SELFMM_ERR_INVALID_ARG, "tokenizer load: path too long");
        strcpy(vocab_path, path);
    }

    sm_tok_settings set;
    /* BertTokenizer's defaults: lower-case on; strip_accents None = strip exactly
     * when lower-casing; tokenize_chinese_chars on. */
    set.lower = resolve(o.lowercase, cfg.lower, 1);
    set.strip_accents = resolve(o.strip_accents, cfg.strip_accents, set.lower);
    set.chinese_chars = resolve(o.chinese_chars, cfg.chinese_chars, 1);

    char *text = NULL;
    size_t size = 0;
    SM_TRY(sm_read_file(vocab_path, MAX_VOCAB_BYTES, &text, &size, err));
    selfmm_status st = sm_tokenizer_create(text, size, vocab_path, &set, out, err);
    free(text);
    return st;
}
