/* config.c -- defaults, presets, set-by-name and validation of selfmm_config. */
#include "core/config_keys.h"

#include "core/number.h"
#include "core/quote.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(selfmm_config, f)
#define BIG 1e6

const sm_key sm_config_keys[] = {
    /* Self-MM (docs/MODEL.md §5) */
    {"dataset", SM_KEY_DATASET, OFF(dataset), 0, 2, 0, 0, "selfmm"},
    {"batch_size", SM_KEY_INT, OFF(batch_size), 1, 65536, 0, 0, "selfmm"},
    {"learning_rate_bert", SM_KEY_DOUBLE, OFF(learning_rate_bert), 0, 10, 0, 0, "selfmm"},
    {"learning_rate_audio", SM_KEY_DOUBLE, OFF(learning_rate_audio), 0, 10, 0, 0, "selfmm"},
    {"learning_rate_video", SM_KEY_DOUBLE, OFF(learning_rate_video), 0, 10, 0, 0, "selfmm"},
    {"learning_rate_other", SM_KEY_DOUBLE, OFF(learning_rate_other), 0, 10, 0, 0, "selfmm"},
    {"weight_decay_bert", SM_KEY_DOUBLE, OFF(weight_decay_bert), 0, 10, 0, 0, "selfmm"},
    {"weight_decay_audio", SM_KEY_DOUBLE, OFF(weight_decay_audio), 0, 10, 0, 0, "selfmm"},
    {"weight_decay_video", SM_KEY_DOUBLE, OFF(weight_decay_video), 0, 10, 0, 0, "selfmm"},
    {"weight_decay_other", SM_KEY_DOUBLE, OFF(weight_decay_other), 0, 10, 0, 0, "selfmm"},
    {"a_lstm_hidden_size", SM_KEY_INT, OFF(a_lstm_hidden_size), 1, 65536, 0, 0, "selfmm"},
    {"v_lstm_hidden_size", SM_KEY_INT, OFF(v_lstm_hidden_size), 1, 65536, 0, 0, "selfmm"},
    {"audio_out", SM_KEY_INT, OFF(audio_out), 1, 65536, 0, 0, "selfmm"},
    {"video_out", SM_KEY_INT, OFF(video_out), 1, 65536, 0, 0, "selfmm"},
    {"post_fusion_dim", SM_KEY_INT, OFF(post_fusion_dim), 1, 65536, 0, 0, "selfmm"},
    {"post_text_dim", SM_KEY_INT, OFF(post_text_dim), 1, 65536, 0, 0, "selfmm"},
    {"post_audio_dim", SM_KEY_INT, OFF(post_audio_dim), 1, 65536, 0, 0, "selfmm"},
    {"post_video_dim", SM_KEY_INT, OFF(post_video_dim), 1, 65536, 0, 0, "selfmm"},
    {"post_fusion_dropout", SM_KEY_DOUBLE, OFF(post_fusion_dropout), 0, 1, 0, 1, "selfmm"},
    {"post_text_dropout", SM_KEY_DOUBLE, OFF(post_text_dropout), 0, 1, 0, 1, "selfmm"},
    {"post_audio_dropout", SM_KEY_DOUBLE, OFF(post_audio_dropout), 0, 1, 0, 1, "selfmm"},
    {"post_video_dropout", SM_KEY_DOUBLE, OFF(post_video_dropout), 0, 1, 0, 1, "selfmm"},
    {"a_lstm_dropout", SM_KEY_DOUBLE, OFF(a_lstm_dropout), 0, 1, 0, 1, "selfmm"},
    {"v_lstm_dropout", SM_KEY_DOUBLE, OFF(v_lstm_dropout), 0, 1, 0, 1, "selfmm"},
    {"H", SM_KEY_DOUBLE, OFF(H), 0, BIG, 1, 0, "selfmm"},
    {"update_epochs", SM_KEY_INT, OFF(update_epochs), 1, BIG, 0, 0, "selfmm"},
    {"early_stop", SM_KEY_INT, OFF(early_stop), 1, BIG, 0, 0, "selfmm"},
    {"exclude_zero", SM_KEY_BOOL, OFF(exclude_zero), 0, 1, 0, 0, "selfmm"},
    {"tail_step", SM_KEY_BOOL, OFF(tail_step), 0, 1, 0, 0, "selfmm"},
    {"valid_loss_decimals", SM_KEY_INT, OFF(valid_loss_decimals), -1, 15, 0, 0, "selfmm"},
    {"audio_dim", SM_KEY_INT, OFF(audio_dim), 1, BIG, 0, 0, "selfmm"},
    {"video_dim", SM_KEY_INT, OFF(video_dim), 1, BIG, 0, 0, "selfmm"},
    /* BERT (config.json) */
    {"vocab_size", SM_KEY_INT, OFF(vocab_size), 1, 1e7, 0, 0, "bert"},
    {"hidden_size", SM_KEY_INT, OFF(hidden_size), 1, 65536, 0, 0, "bert"},
    {"num_hidden_layers", SM_KEY_INT, OFF(num_hidden_layers), 1, 1000, 0, 0, "bert"},
    {"num_attention_heads", SM_KEY_INT, OFF(num_attention_heads), 1, 65536, 0, 0, "bert"},
    {"intermediate_size", SM_KEY_INT, OFF(intermediate_size), 1, BIG, 0, 0, "bert"},
    {"max_position_embeddings", SM_KEY_INT, OFF(max_position_embeddings), 1, BIG, 0, 0, "bert"},
    {"type_vocab_size", SM_KEY_INT, OFF(type_vocab_size), 1, 1000, 0, 0, "bert"},
    {"layer_norm_eps", SM_KEY_DOUBLE, OFF(layer_norm_eps), 0, 1, 1, 1, "bert"},
    {"hidden_dropout_prob", SM_KEY_DOUBLE, OFF(hidden_dropout_prob), 0, 1, 0, 1, "bert"},
    {"attention_probs_dropout_prob", SM_KEY_DOUBLE, OFF(attention_probs_dropout_prob), 0, 1, 0, 1, "bert"},
    {"initializer_range", SM_KEY_DOUBLE, OFF(initializer_range), 0, 10, 0, 0, "bert"},
    /* run settings */
    {"seed", SM_KEY_INT64, OFF(seed), 0, 9007199254740992.0, 0, 0, "run"},
    {"threads", SM_KEY_INT, OFF(threads), 0, 1024, 0, 0, "run"},
    {"max_epochs", SM_KEY_INT, OFF(max_epochs), 0, BIG, 0, 0, "run"},
    {"shuffle", SM_KEY_BOOL, OFF(shuffle), 0, 1, 0, 0, "run"},
    {"nan_to_zero", SM_KEY_BOOL, OFF(nan_to_zero), 0, 1, 0, 0, "run"},
    {"clamp_lengths", SM_KEY_BOOL, OFF(clamp_lengths), 0, 1, 0, 0, "run"},
    {"data_path", SM_KEY_STRING, OFF(data_path), 0, 0, 0, 0, "run"},
    {"bert_path", SM_KEY_STRING, OFF(bert_path), 0, 0, 0, 0, "run"},
    /* reference variants: Self-MM (torch 1.2) or MMSA (torch >= 1.3) */
    {"adam_legacy", SM_KEY_BOOL, OFF(adam_legacy), 0, 1, 0, 0, "selfmm"},
    {"f1_truth_weighted", SM_KEY_BOOL, OFF(f1_truth_weighted), 0, 1, 0, 0, "selfmm"},
    {"valid_min_delta", SM_KEY_DOUBLE, OFF(valid_min_delta), 0, 1, 0, 0, "selfmm"},
    {"metrics_decimals", SM_KEY_INT, OFF(metrics_decimals), -1, 15, 0, 0, "selfmm"},
    {"need_data_aligned", SM_KEY_BOOL, OFF(need_data_aligned), 0, 1, 0, 0, "selfmm"},
    {"metrics_mae_float64", SM_KEY_BOOL, OFF(metrics_mae_float64), 0, 1, 0, 0, "selfmm"},
    {"fsync", SM_KEY_BOOL, OFF(fsync), 0, 1, 0, 0, "run"},
    {"precision", SM_KEY_PRECISION, OFF(precision), 0, 1, 0, 0, "run"},
    {NULL, SM_KEY_INT, 0, 0, 0, 0, 0, NULL},
};

const sm_key *sm_config_key_find(const char *name)
{
    if (!name) return NULL;
    for (const sm_key *k = sm_config_keys; k->name; k++)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

static const char *const kind_names[] = {"sims", "mosi", "mosei"};

const char *sm_dataset_kind_name(int kind)
{
    return kind >= 0 && kind < 3 ? kind_names[kind] : NULL;
}

int sm_dataset_kind_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, kind_names[i]) == 0) return i;
    return -1;
}

static const char *const precision_names[] = {"fp32", "bf16"};

const char *sm_precision_name(int precision)
{
    return precision >= 0 && precision < 2 ? precision_names[precision] : NULL;
}

int sm_precision_parse(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (s && strcmp(s, precision_names[i]) == 0) return i;
    return -1;
}

selfmm_status sm_config_check_range(const sm_key *k, double v, selfmm_error *err)
{
    int bad = !isfinite(v) || (k->min_open ? v <= k->min : v < k->min) ||
              (k->max_open ? v >= k->max : v > k->max);
    if (bad)
        return sm_error(err, SELFMM_ERR_RANGE, "config key \"%s\": value %g out of range %c%g, %g%c",
                        k->name, v, k->min_open ? '(' : '[', k->min, k->max, k->max_open ? ')' : ']');
    return SELFMM_OK;
}

/* ---- defaults and presets ---- */

static void bert_base(selfmm_config *c, int chinese)
{
    c->vocab_size = chinese ? 21128 : 30522;
    c->hidden_size = 768;
    c->num_hidden_layers = 12;
    c->num_attention_heads = 12;
    c->intermediate_size = 3072;
    c->max_position_embeddings = 512;
    c->type_vocab_size = 2;
    c->layer_norm_eps = 1e-12;
    c->hidden_dropout_prob = 0.1;
    c->attention_probs_dropout_prob = 0.1;
    c->initializer_range = 0.02;
}

static void common(selfmm_config *c, int kind)
{
    memset(c, 0, sizeof *c);
    c->dataset = kind;
    c->batch_size = 32;
    c->a_lstm_dropout = 0.0;
    c->v_lstm_dropout = 0.0;
    c->update_epochs = 4;
    c->early_stop = 8;
    c->exclude_zero = 0;
    c->tail_step = 0;
    c->valid_loss_decimals = -1;
    /* The reference as run today; docs/REFERENCE.md gives the file and line of each. */
    c->adam_legacy = 0;          /* torch >= 1.3's Adam (torch 1.2 no longer installs) */
    c->f1_truth_weighted = 1;    /* utils/metricsTop.py: f1_score(truth, pred) since 2021-04 */
    c->valid_min_delta = 1e-6;   /* trains/multiTask/SELF_MM.py: cur <= best - 1e-6 */
    c->metrics_decimals = kind == SELFMM_DATASET_SIMS ? -1 : 4; /* metricsTop.py rounds MOSI/MOSEI */
    c->need_data_aligned = 0;    /* config/config_regression.py: unaligned data */
    c->metrics_mae_float64 = 0;  /* metricsTop.py rounds NumPy's float32 MAE */
    bert_base(c, kind == SELFMM_DATASET_SIMS);
    c->seed = 1111;
    c->threads = 0;
    c->max_epochs = 0;
    c->shuffle = 1;
    c->fsync = 1;
}

/* What differs between the presets, one row each: Self-MM's
 * config/config_regression.py, and MMSA's src/MMSA/config/config_regression.json
 * ("self_mm") for the mmsa-* rows. */
typedef struct preset_row {
    int kind;                  /* selfmm_dataset_kind */
    int mmsa;                  /* MMSA's conventions on top (mmsa_common) */
    int batch_size;
    double lr[4], wd[4];       /* learning rates, weight decays: bert, audio, video, other */
    int dims[8];               /* a/v LSTM hidden, audio/video out, post fusion/text/audio/video */
    double drop[4];            /* post fusion/text/audio/video dropouts */
    double H;
    int audio_dim, video_dim;  /* the released features' widths */
} preset_row;

/* The presets by name; presets[i] fills preset_names[i]. */
static const char *const preset_names[] = {"sims",      "mosi",      "mosei",
                                           "mmsa-sims", "mmsa-mosi", "mmsa-mosei", NULL};
static const preset_row presets[] = {
    {SELFMM_DATASET_SIMS, 0, 32, {5e-5, 5e-3, 5e-3, 1e-3}, {1e-3, 1e-2, 1e-2, 1e-3},
     {16, 64, 16, 32, 128, 64, 16, 32}, {0.0, 0.1, 0.1, 0.0}, 1.0, 33, 709},
    {SELFMM_DATASET_MOSI, 0, 32, {5e-5, 1e-3, 1e-4, 1e-3}, {1e-3, 1e-2, 1e-3, 1e-3},
     {32, 64, 16, 32, 128, 64, 16, 32}, {0.1, 0.0, 0.1, 0.1}, 3.0, 5, 20},
    {SELFMM_DATASET_MOSEI, 0, 32, {5e-5, 5e-3, 1e-4, 1e-3}, {1e-3, 0.0, 0.0, 1e-2},
     {32, 32, 16, 32, 128, 32, 16, 16}, {0.0, 0.1, 0.0, 0.1}, 3.0, 74, 35},
    {SELFMM_DATASET_SIMS, 1, 32, {5e-5, 5e-3, 5e-3, 1e-3}, {1e-3, 1e-2, 1e-2, 1e-3},
     {16, 64, 16, 32, 128, 64, 16, 32}, {0.0, 0.1, 0.1, 0.0}, 1.0, 33, 709},
    {SELFMM_DATASET_MOSI, 1, 16, {5e-5, 5e-3, 5e-3, 1e-3}, {1e-3, 1e-3, 1e-3, 1e-3},
     {16, 32, 16, 32, 128, 32, 16, 32}, {0.0, 0.1, 0.1, 0.0}, 3.0, 5, 20},
    {SELFMM_DATASET_MOSEI, 1, 32, {5e-5, 5e-3, 1e-4, 1e-3}, {1e-3, 0.0, 0.0, 1e-2},
     {16, 32, 16, 32, 128, 32, 16, 32}, {0.1, 0.0, 0.0, 0.0}, 3.0, 74, 35},
};
_Static_assert(sizeof presets / sizeof *presets + 1 == sizeof preset_names / sizeof *preset_names,
               "one row per preset name");

/* MMSA (src/MMSA/config/config_regression.json, "self_mm"): excludeZero true, the
 * valid Loss rounded to 4 decimals (trains/multiTask/SELF_MM.py do_test) and every
 * dataset's metrics rounded to 4 decimals (utils/metricsTop.py, SIMS included), the
 * MAE as a float64. */
static void mmsa_common(selfmm_config *c)
{
    c->exclude_zero = 1;
    c->valid_loss_decimals = 4;
    c->metrics_decimals = 4;
    c->metrics_mae_float64 = 1; /* utils/metricsTop.py: np.mean(...).astype(np.float64) */
}

static void preset_fill(selfmm_config *c, const preset_row *p)
{
    common(c, p->kind);
    c->batch_size = p->batch_size;
    c->learning_rate_bert = p->lr[0], c->learning_rate_audio = p->lr[1];
    c->learning_rate_video = p->lr[2], c->learning_rate_other = p->lr[3];
    c->weight_decay_bert = p->wd[0], c->weight_decay_audio = p->wd[1];
    c->weight_decay_video = p->wd[2], c->weight_decay_other = p->wd[3];
    c->a_lstm_hidden_size = p->dims[0], c->v_lstm_hidden_size = p->dims[1];
    c->audio_out = p->dims[2], c->video_out = p->dims[3];
    c->post_fusion_dim = p->dims[4], c->post_text_dim = p->dims[5];
    c->post_audio_dim = p->dims[6], c->post_video_dim = p->dims[7];
    c->post_fusion_dropout = p->drop[0], c->post_text_dropout = p->drop[1];
    c->post_audio_dropout = p->drop[2], c->post_video_dropout = p->drop[3];
    c->H = p->H;
    c->audio_dim = p->audio_dim, c->video_dim = p->video_dim;
    if (p->mmsa) mmsa_common(c);
}

SELFMM_API const char *const *selfmm_config_preset_names(void) { return preset_names; }

SELFMM_API void selfmm_config_default(selfmm_config *cfg)
{
    if (cfg) preset_fill(cfg, &presets[0]);
}

SELFMM_API selfmm_status selfmm_config_preset(selfmm_config *cfg, const char *name,
                                              selfmm_error *err)
{
    if (!cfg || !name) return sm_error(err, SELFMM_ERR_INVALID_ARG, "config preset: NULL argument");
    char known[128] = "";
    for (size_t i = 0; preset_names[i]; i++) {
        if (strcmp(preset_names[i], name) == 0) {
            preset_fill(cfg, &presets[i]);
            return SELFMM_OK;
        }
        size_t n = strlen(known);
        snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", preset_names[i]);
    }
    return sm_error(err, SELFMM_ERR_NOT_FOUND, "unknown preset \"%s\" (known: %s)", name, known);
}

/* ---- set by name ---- */

static int parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
        return *out = 1, 1;
    if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
        return *out = 0, 1;
    return 0;
}

/* A decimal number (core/number.h); nan and inf are numbers, which the key's range
 * then refuses with its bounds. */
static int parse_double(const char *s, double *out)
{
    sm_num k = sm_parse_decimal(s, strlen(s), out);
    return k == SM_NUM_OK || k == SM_NUM_NAN || k == SM_NUM_INF;
}

int sm_config_key_equal(const selfmm_config *a, const selfmm_config *b, const sm_key *k)
{
    const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
    switch (k->type) {
    case SM_KEY_DOUBLE: return *(const double *)x == *(const double *)y;
    case SM_KEY_INT64: return *(const int64_t *)x == *(const int64_t *)y;
    case SM_KEY_STRING: return strcmp(x, y) == 0;
    default: return *(const int *)x == *(const int *)y;
    }
}

void sm_config_key_format(const selfmm_config *cfg, const sm_key *k, char *buf, size_t cap)
{
    const char *f = (const char *)cfg + k->offset;
    switch (k->type) {
    case SM_KEY_DOUBLE: snprintf(buf, cap, "%.17g", *(const double *)f); break;
    case SM_KEY_INT64: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)f); break;
    case SM_KEY_BOOL: snprintf(buf, cap, "%s", *(const int *)f ? "true" : "false"); break;
    case SM_KEY_DATASET: {
        const char *name = sm_dataset_kind_name(*(const int *)f);
        snprintf(buf, cap, "%s", name ? name : "?");
        break;
    }
    case SM_KEY_PRECISION: {
        const char *name = sm_precision_name(*(const int *)f);
        snprintf(buf, cap, "%s", name ? name : "?");
        break;
    }
    case SM_KEY_STRING: snprintf(buf, cap, "%s", f); break;
    default: snprintf(buf, cap, "%d", *(const int *)f); break;
    }
}

selfmm_status sm_config_put_number(selfmm_config *cfg, const sm_key *k, double v, selfmm_error *err)
{
    if ((k->type == SM_KEY_INT || k->type == SM_KEY_INT64) && v != floor(v))
        return sm_error(err, SELFMM_ERR_TYPE, "config key \"%s\": expected an integer, got %.17g", k->name, v);
    SM_TRY(sm_config_check_range(k, v, err));
    char *field = (char *)cfg + k->offset;
    switch (k->type) {
    case SM_KEY_INT:
    case SM_KEY_BOOL:
    case SM_KEY_DATASET:
    case SM_KEY_PRECISION: *(int *)field = (int)v; return SELFMM_OK;
    case SM_KEY_INT64: *(int64_t *)field = (int64_t)v; return SELFMM_OK;
    case SM_KEY_DOUBLE: *(double *)field = v; return SELFMM_OK;
    case SM_KEY_STRING: break;
    }
    return sm_error(err, SELFMM_ERR_TYPE, "config key \"%s\": expected a string", k->name);
}

selfmm_status sm_config_put_string(selfmm_config *cfg, const sm_key *k, const char *s, selfmm_error *err)
{
    if (k->type != SM_KEY_STRING)
        return sm_error(err, SELFMM_ERR_TYPE, "config key \"%s\": not a string key", k->name);
    if (strlen(s) >= SELFMM_PATH_MAX)
        return sm_error(err, SELFMM_ERR_RANGE, "config key \"%s\": longer than %d bytes", k->name,
                        SELFMM_PATH_MAX - 1);
    strcpy((char *)cfg + k->offset, s);
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_config_set(selfmm_config *cfg, const char *key, const char *value,
                                           selfmm_error *err)
{
    if (!cfg || !key || !value)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "config set: NULL argument");
    const sm_key *k = sm_config_key_find(key);
    if (!k) return sm_error(err, SELFMM_ERR_UNKNOWN_KEY, "unknown config key %s", SM_Q(key));
    double v;
    int b;
    switch (k->type) {
    case SM_KEY_INT:
    case SM_KEY_INT64:
    case SM_KEY_DOUBLE:
        if (!parse_double(value, &v))
            return sm_error(err, SELFMM_ERR_TYPE, "config key \"%s\": expected %s, got %s", key,
                            k->type == SM_KEY_DOUBLE ? "a number" : "an integer", SM_Q(value));
        return sm_config_put_number(cfg, k, v, err);
    case SM_KEY_BOOL:
        if (!parse_bool(value, &b))
            return sm_error(err, SELFMM_ERR_TYPE, "config key \"%s\": expected true or false, got %s",
                            key, SM_Q(value));
        return sm_config_put_number(cfg, k, b, err);
    case SM_KEY_DATASET:
        b = sm_dataset_kind_parse(value);
        if (b < 0)
            return sm_error(err, SELFMM_ERR_RANGE,
                            "config key \"%s\": expected sims, mosi or mosei, got %s", key, SM_Q(value));
        return sm_config_put_number(cfg, k, b, err);
    case SM_KEY_PRECISION:
        b = sm_precision_parse(value);
        if (b < 0)
            return sm_error(err, SELFMM_ERR_RANGE, "config key \"%s\": expected fp32 or bf16, got %s", key,
                            SM_Q(value));
        return sm_config_put_number(cfg, k, b, err);
    case SM_KEY_STRING: return sm_config_put_string(cfg, k, value, err);
    }
    return sm_error(err, SELFMM_ERR_INVALID_ARG, "config key \"%s\": bad table entry", key);
}

SELFMM_API selfmm_status selfmm_config_validate(const selfmm_config *cfg, selfmm_error *err)
{
    if (!cfg) return sm_error(err, SELFMM_ERR_INVALID_ARG, "config validate: NULL config");
    for (const sm_key *k = sm_config_keys; k->name; k++) {
        const char *field = (const char *)cfg + k->offset;
        switch (k->type) {
        case SM_KEY_INT: SM_TRY(sm_config_check_range(k, *(const int *)field, err)); break;
        case SM_KEY_INT64: SM_TRY(sm_config_check_range(k, (double)*(const int64_t *)field, err)); break;
        case SM_KEY_DOUBLE: SM_TRY(sm_config_check_range(k, *(const double *)field, err)); break;
        case SM_KEY_BOOL:
        case SM_KEY_DATASET:
        case SM_KEY_PRECISION: SM_TRY(sm_config_check_range(k, *(const int *)field, err)); break;
        case SM_KEY_STRING:
            if (memchr(field, '\0', SELFMM_PATH_MAX) == NULL)
                return sm_error(err, SELFMM_ERR_RANGE, "config key \"%s\": not terminated", k->name);
            break;
        }
    }
    if (cfg->hidden_size % cfg->num_attention_heads != 0)
        return sm_error(err, SELFMM_ERR_RANGE,
                        "config keys \"hidden_size\" (%d) and \"num_attention_heads\" (%d): the "
                        "hidden size must be a multiple of the number of heads",
                        cfg->hidden_size, cfg->num_attention_heads);
    return SELFMM_OK;
}
