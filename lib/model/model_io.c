/* model_io.c -- moving a model's weights through files: pretrained BERT
 * (HuggingFace folders and weight files), reference .pth state_dicts (import and
 * export), and the native model file (safetensors + config + metadata).
 *
 * Every load first matches each tensor of the parameter table to a checkpoint
 * tensor and checks its type and shape; only when all of them fit are weights
 * copied, so a failed load leaves the model as it was. */
#include "model/model_io.h"

#include "core/file.h"
#include "core/log.h"
#include "core/quote.h"
#include "io/safetensors.h"
#include "io/torch_write.h"
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BERT_PREFIX "Model.text_model.model."
#define NATIVE_FORMAT "libselfmm"
#define NATIVE_VERSION "1"

/* ---- matching names ---- */

/* LayerNorm.weight/bias as old TF conversions name them (gamma/beta); 0 if the
 * name has no LayerNorm parameter. */
static int gamma_beta(const char *name, char *out, size_t cap)
{
    const char *p = strstr(name, "LayerNorm.");
    if (!p) return 0;
    const char *leaf = p + strlen("LayerNorm.");
    const char *alt = !strcmp(leaf, "weight") ? "gamma" : !strcmp(leaf, "bias") ? "beta" : NULL;
    if (!alt) return 0;
    snprintf(out, cap, "%.*s%s", (int)(leaf - name), name, alt);
    return 1;
}

/* Look a name up as is and in its gamma/beta spelling. */
static const sm_tensor *find_variant(const sm_tensor_list *l, const char *name)
{
    const sm_tensor *t = sm_tensors_find(l, name);
    char alt[256];
    if (!t && gamma_beta(name, alt, sizeof alt)) t = sm_tensors_find(l, alt);
    return t;
}

/* A BERT parameter (suffix after BERT_PREFIX) in a HuggingFace checkpoint: with
 * or without the "bert." prefix. */
static const sm_tensor *find_bert(const sm_tensor_list *l, const char *suffix)
{
    const sm_tensor *t = find_variant(l, suffix);
    char pre[256];
    snprintf(pre, sizeof pre, "bert.%s", suffix);
    return t ? t : find_variant(l, pre);
}

/* A model parameter in a reference state_dict: "Model." names, or the SELF_MM
 * module's own names without it. */
static const sm_tensor *find_model(const sm_tensor_list *l, const char *name)
{
    const sm_tensor *t = find_variant(l, name);
    if (!t && !strncmp(name, "Model.", 6)) t = find_variant(l, name + 6);
    return t;
}

static int shape_equal(const sm_param *p, const sm_tensor *t)
{
    if (p->ndim != t->ndim) return 0;
    for (int d = 0; d < p->ndim; d++)
        if (p->shape[d] != t->shape[d]) return 0;
    return 1;
}

static selfmm_status check_tensor(const sm_param *p, const sm_tensor *t, const char *path,
                                  const char *hint, selfmm_error *err)
{
    if (!sm_dtype_is_float(t->dtype))
        return sm_error(err, SELFMM_ERR_TYPE, "%s: tensor %s holds %s, expected floating point",
                        path, SM_Q(t->name), sm_dtype_name(t->dtype));
    if (!shape_equal(p, t)) {
        char have[96], want[96];
        sm_shape_str(have, sizeof have, t->ndim, t->shape);
        sm_shape_str(want, sizeof want, p->ndim, p->shape);
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: tensor %s has shape %s, the model expects %s%s%s%s",
                        path, SM_Q(t->name), have, want, hint ? " (set by " : "", hint ? hint : "",
                        hint ? ")" : "");
    }
    return SELFMM_OK;
}

/* Which config keys make a parameter's shape, for error messages. */
static const char *shape_hint(const char *name)
{
    static const struct { const char *part, *keys; } hints[] = {
        {"audio_model.rnn", "a_lstm_hidden_size, audio_dim"},
        {"audio_model.linear_1", "a_lstm_hidden_size, audio_out"},
        {"video_model.rnn", "v_lstm_hidden_size, video_dim"},
        {"video_model.linear_1", "v_lstm_hidden_size, video_out"},
        {"post_fusion_layer", "post_fusion_dim; input hidden_size + audio_out + video_out"},
        {"post_text_layer", "post_text_dim; input hidden_size"},
        {"post_audio_layer", "post_audio_dim; input audio_out"},
        {"post_video_layer", "post_video_dim; input video_out"},
        {"text_model", "BERT's config.json"},
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (strstr(name, hints[i].part)) return hints[i].keys;
    return NULL;
}

/* Report the checkpoint tensors nothing used. */
static void report_unused(const sm_tensor_list *l, const unsigned char *used, const char *path,
                          selfmm_log_level level)
{
    int n = 0;
    char names[400] = "";
    size_t o = 0;
    for (int i = 0; i < l->n; i++) {
        if (used[i]) continue;
        if (n < 6 && o < sizeof names)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", n ? ", " : "", SM_Q(l->t[i].name));
        n++;
    }
    if (n)
        sm_log(level, "%s: ignored %d tensor%s not in the model: %s%s", path, n, n > 1 ? "s" : "",
               names, n > 6 ? ", ..." : "");
}

static int index_of(const sm_tensor_list *l, const sm_tensor *t) { return (int)(t - l->t); }

/* ---- pretrained BERT ---- */

static selfmm_status check_bert_config(const selfmm_model *m, const char *file, selfmm_error *err)
{
    selfmm_config c = m->net.cfg;
    SM_TRY(selfmm_config_load_bert_json(&c, file, err));
    const struct { const char *key; long long have, want; } ints[] = {
        {"vocab_size", c.vocab_size, m->net.cfg.vocab_size},
        {"hidden_size", c.hidden_size, m->net.cfg.hidden_size},
        {"num_hidden_layers", c.num_hidden_layers, m->net.cfg.num_hidden_layers},
        {"num_attention_heads", c.num_attention_heads, m->net.cfg.num_attention_heads},
        {"intermediate_size", c.intermediate_size, m->net.cfg.intermediate_size},
        {"max_position_embeddings", c.max_position_embeddings, m->net.cfg.max_position_embeddings},
        {"type_vocab_size", c.type_vocab_size, m->net.cfg.type_vocab_size},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (ints[i].have != ints[i].want)
            return sm_error(err, SELFMM_ERR_SHAPE, "%s: %s is %lld, the model has %lld", file,
                            ints[i].key, ints[i].have, ints[i].want);
    if (c.layer_norm_eps != m->net.cfg.layer_norm_eps)
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: layer_norm_eps is %g, the model has %g", file,
                        c.layer_norm_eps, m->net.cfg.layer_norm_eps);
    return SELFMM_OK;
}

typedef struct plan_item {
    int param;
    const sm_tensor *t;
} plan_item;

static selfmm_status load_bert(selfmm_model *m, const char *path, selfmm_error *err)
{
    char weights[SELFMM_PATH_MAX];
    if (sm_is_dir(path)) {
        char cfg[SELFMM_PATH_MAX];
        SM_TRY(sm_path_join(cfg, sizeof cfg, path, "config.json", err));
        if (!sm_exists(cfg))
            return sm_error(err, SELFMM_ERR_MISSING, "%s: the BERT folder has no config.json", path);
        SM_TRY(check_bert_config(m, cfg, err));
        SM_TRY(sm_path_join(weights, sizeof weights, path, "model.safetensors", err));
        if (!sm_exists(weights)) SM_TRY(sm_path_join(weights, sizeof weights, path, "pytorch_model.bin", err));
        if (!sm_exists(weights))
            return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: no model.safetensors or pytorch_model.bin", path);
    } else if (snprintf(weights, sizeof weights, "%s", path) >= (int)sizeof weights) {
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "path too long");
    }
    sm_tensor_list l;
    SM_TRY(sm_read_checkpoint(weights, &l, err));
    const sm_param_table *tab = &m->net.table;
    plan_item *plan = calloc((size_t)tab->n, sizeof *plan);
    unsigned char *used = calloc((size_t)l.n + 1, 1);
    int np = 0, pooler_missing = 0;
    selfmm_status st = plan && used ? SELFMM_OK : sm_error(err, SELFMM_ERR_NOMEM, "out of memory");
    for (int i = 0; i < tab->n && st == SELFMM_OK; i++) {
        const sm_param *p = &tab->p[i];
        if (strncmp(p->name, BERT_PREFIX, strlen(BERT_PREFIX)) != 0) continue;
        const char *suffix = p->name + strlen(BERT_PREFIX);
        const sm_tensor *t = find_bert(&l, suffix);
        if (!t) {
            if (!strncmp(suffix, "pooler.", 7)) { /* unused by Self-MM: keep the initial values */
                pooler_missing = 1;
                continue;
            }
            st = sm_error(err, SELFMM_ERR_MISSING, "%s: no tensor \"%s\" (nor \"bert.%s\")", weights,
                          suffix, suffix);
            break;
        }
        st = check_tensor(p, t, weights, NULL, err);
        used[index_of(&l, t)] = 1;
        plan[np++] = (plan_item){i, t};
    }
    if (st == SELFMM_OK) {
        for (int k = 0; k < np; k++) sm_tensors_take_f32(&l, plan[k].t, m->net.params + tab->p[plan[k].param].offset);
        sm_net_weights_changed(&m->net);
        if (pooler_missing)
            sm_log(SELFMM_LOG_INFO, "%s: no pooler weights; the (unused) pooler keeps its initial values",
                   weights);
        report_unused(&l, used, weights, SELFMM_LOG_INFO);
    }
    free(plan);
    free(used);
    sm_tensors_free(&l);
    return st;
}

SELFMM_API selfmm_status selfmm_model_load_bert(selfmm_model *m, const char *path)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!path) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "load BERT: NULL path");
    return load_bert(m, path, &m->err);
}

/* ---- reference .pth ---- */

selfmm_status sm_model_import_tensors(selfmm_model *m, const sm_tensor_list *l, const char *path,
                                      selfmm_error *err)
{
    const sm_param_table *tab = &m->net.table;
    plan_item *plan = calloc((size_t)tab->n, sizeof *plan);
    unsigned char *used = calloc((size_t)l->n + 1, 1);
    selfmm_status st = plan && used ? SELFMM_OK : sm_error(err, SELFMM_ERR_NOMEM, "out of memory");
    for (int i = 0; i < tab->n && st == SELFMM_OK; i++) {
        const sm_param *p = &tab->p[i];
        const sm_tensor *t = find_model(l, p->name);
        if (!t) {
            st = sm_error(err, SELFMM_ERR_MISSING, "%s: no tensor \"%s\"", path, p->name);
            break;
        }
        st = check_tensor(p, t, path, shape_hint(p->name), err);
        used[index_of(l, t)] = 1;
        plan[i] = (plan_item){i, t};
    }
    if (st == SELFMM_OK) {
        for (int i = 0; i < tab->n; i++) sm_tensors_take_f32(l, plan[i].t, m->net.params + tab->p[i].offset);
        sm_net_weights_changed(&m->net);
        report_unused(l, used, path, SELFMM_LOG_WARN);
    }
    free(plan);
    free(used);
    return st;
}

/* The tensors of the file at path, read for a call on m (`what` names the call). */
static selfmm_status read_for(selfmm_model *m, const char *what, const char *path, sm_tensor_list *l)
{
    if (!path) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "%s: NULL path", what);
    return sm_read_checkpoint(path, l, &m->err);
}

SELFMM_API selfmm_status selfmm_model_import_pth(selfmm_model *m, const char *path)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    sm_tensor_list l;
    SM_TRY(read_for(m, "import", path, &l));
    selfmm_status st = sm_model_import_tensors(m, &l, path, &m->err);
    sm_tensors_free(&l);
    return st;
}

/* The parameter table as tensors to write. */
static sm_st_out *table_tensors(const selfmm_model *m)
{
    sm_st_out *t = calloc((size_t)m->net.table.n + 1, sizeof *t);
    if (!t) return NULL;
    for (int i = 0; i < m->net.table.n; i++) {
        const sm_param *p = &m->net.table.p[i];
        t[i] = (sm_st_out){p->name, p->ndim, p->shape, p->numel, m->net.params + p->offset};
    }
    return t;
}

SELFMM_API selfmm_status selfmm_model_export_pth(selfmm_model *m, const char *path)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!path) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "export: NULL path");
    sm_st_out *t = table_tensors(m);
    if (!t) return sm_error(&m->err, SELFMM_ERR_NOMEM, "export: out of memory");
    selfmm_status st = sm_write_torch_zip(path, t, m->net.table.n, &m->err);
    free(t);
    return st;
}

selfmm_status sm_config_check_tensors(selfmm_config *cfg, const sm_tensor_list *l, const char *path,
                                      selfmm_error *err)
{
    selfmm_config c = *cfg;
    /* the feature widths are the LSTMs' input sizes */
    static const struct { const char *name; size_t offset; const char *key; } widths[] = {
        {"Model.audio_model.rnn.weight_ih_l0", offsetof(selfmm_config, audio_dim), "audio_dim"},
        {"Model.video_model.rnn.weight_ih_l0", offsetof(selfmm_config, video_dim), "video_dim"},
    };
    for (int k = 0; k < 2; k++) {
        const sm_tensor *t = find_model(l, widths[k].name);
        if (!t) return sm_error(err, SELFMM_ERR_MISSING, "%s: no tensor \"%s\"", path, widths[k].name);
        if (t->ndim != 2 || t->shape[1] < 1 || t->shape[1] > 1000000)
            return sm_error(err, SELFMM_ERR_SHAPE, "%s: tensor %s is not a (4 x hidden, %s) matrix",
                            path, SM_Q(t->name), widths[k].key);
        *(int *)((char *)&c + widths[k].offset) = (int)t->shape[1];
    }
    SM_TRY(selfmm_config_validate(&c, err));
    sm_param_table tab;
    SM_TRY(sm_params_build(&c, &tab, err));
    selfmm_status st = SELFMM_OK;
    for (int i = 0; i < tab.n && st == SELFMM_OK; i++) {
        const sm_param *p = &tab.p[i];
        const sm_tensor *t = find_model(l, p->name);
        if (!t) st = sm_error(err, SELFMM_ERR_MISSING, "%s: no tensor \"%s\"", path, p->name);
        else st = check_tensor(p, t, path, shape_hint(p->name), err);
    }
    sm_params_free(&tab);
    if (st == SELFMM_OK) *cfg = c;
    return st;
}

SELFMM_API selfmm_status selfmm_config_check_pth(selfmm_config *cfg, const char *path,
                                                 selfmm_error *err)
{
    if (!cfg || !path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "check .pth: NULL argument");
    sm_tensor_list l;
    SM_TRY(sm_read_checkpoint(path, &l, err));
    selfmm_status st = sm_config_check_tensors(cfg, &l, path, err);
    sm_tensors_free(&l);
    return st;
}

/* ---- the native model file ---- */

static int reserved_meta(const char *key)
{
    return !strcmp(key, "format") || !strcmp(key, "format_version") || !strcmp(key, "config");
}

SELFMM_API selfmm_status selfmm_model_save(selfmm_model *m, const char *path)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    selfmm_error *err = &m->err;
    if (!path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "save: NULL path");
    char *json = NULL;
    SM_TRY(selfmm_config_to_json(&m->net.cfg, &json, err));
    int nm = 3 + m->n_meta;
    const char **keys = calloc((size_t)nm, sizeof *keys), **vals = calloc((size_t)nm, sizeof *vals);
    sm_st_out *t = table_tensors(m);
    selfmm_status st = SELFMM_OK;
    if (!keys || !vals || !t) {
        st = sm_error(err, SELFMM_ERR_NOMEM, "save: out of memory");
    } else {
        int k = 0;
        keys[k] = "format", vals[k++] = NATIVE_FORMAT;
        keys[k] = "format_version", vals[k++] = NATIVE_VERSION;
        keys[k] = "config", vals[k++] = json;
        for (int i = 0; i < m->n_meta; i++) {
            if (reserved_meta(m->meta[i].key)) continue;
            keys[k] = m->meta[i].key, vals[k++] = m->meta[i].value;
        }
        st = sm_write_safetensors(path, t, m->net.table.n, keys, vals, k, err);
    }
    free(keys);
    free(vals);
    free(t);
    selfmm_free_string(json);
    return st;
}

/* The config stored in a native model file, after checking its format metadata. */
static selfmm_status native_config(const sm_tensor_list *l, const char *path, selfmm_config *cfg,
                                   selfmm_error *err)
{
    if (strcmp(l->format, "safetensors") != 0)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: a %s checkpoint, not a libselfmm model file "
                        "(import reference weights with selfmm_model_import_pth)", path, l->format);
    const char *fmt = sm_tensors_meta(l, "format"), *ver = sm_tensors_meta(l, "format_version");
    const char *json = sm_tensors_meta(l, "config");
    if (!fmt || strcmp(fmt, NATIVE_FORMAT) != 0)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: safetensors without libselfmm metadata "
                        "(format is %s)", path, fmt ? SM_Q(fmt) : "absent");
    if (!ver || strcmp(ver, NATIVE_VERSION) != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: model file format version %s (this "
                        "libselfmm reads version %s)", path, ver ? SM_Q(ver) : "absent", NATIVE_VERSION);
    if (!json) return sm_error(err, SELFMM_ERR_MISSING, "%s: the model file has no config", path);
    selfmm_config_default(cfg);
    selfmm_error e2 = {0};
    selfmm_status st = selfmm_config_from_json(cfg, json, &e2);
    if (st == SELFMM_OK) st = selfmm_config_validate(cfg, &e2);
    if (st != SELFMM_OK) return sm_error(err, st, "%s: stored config: %s", path, e2.message);
    return SELFMM_OK;
}

/* Every parameter of a table is in l as float32 of its shape. */
static selfmm_status check_table(const sm_param_table *tab, const sm_tensor_list *l, const char *path,
                                 selfmm_error *err)
{
    selfmm_status st = SELFMM_OK;
    for (int i = 0; i < tab->n && st == SELFMM_OK; i++) {
        const sm_param *p = &tab->p[i];
        const sm_tensor *t = sm_tensors_find(l, p->name);
        if (!t) st = sm_error(err, SELFMM_ERR_MISSING, "%s: no tensor \"%s\"", path, p->name);
        else if (t->dtype != SM_DT_F32)
            st = sm_error(err, SELFMM_ERR_TYPE, "%s: tensor \"%s\" is %s, model files hold float32",
                          path, p->name, sm_dtype_name(t->dtype));
        else st = check_tensor(p, t, path, NULL, err);
    }
    return st;
}

selfmm_status sm_model_check_params(const selfmm_model *m, const sm_tensor_list *l,
                                    const char *path, selfmm_error *err)
{
    return check_table(&m->net.table, l, path, err);
}

void sm_model_copy_params(selfmm_model *m, const sm_tensor_list *l)
{
    for (int i = 0; i < m->net.table.n; i++)
        sm_tensors_take_f32(l, sm_tensors_find(l, m->net.table.p[i].name), m->net.params + m->net.table.p[i].offset);
    sm_net_weights_changed(&m->net);
}

/* Every tensor of m's table from l (float32, names and shapes checked, nothing
 * foreign), then the metadata strings. The weights change only when all checks pass. */
static selfmm_status native_fill(selfmm_model *m, const sm_tensor_list *l, const char *path,
                                 selfmm_error *err)
{
    selfmm_status st = sm_model_check_params(m, l, path, err);
    /* every parameter was found and names are unique: with more tensors than
     * parameters, one of the first n + 1 is foreign */
    for (int i = 0; l->n > m->net.table.n && i <= m->net.table.n && st == SELFMM_OK; i++)
        if (sm_params_find(&m->net.table, l->t[i].name) < 0)
            st = sm_error(err, SELFMM_ERR_SHAPE, "%s: tensor %s is not part of the model its "
                          "config describes", path, SM_Q(l->t[i].name));
    if (st == SELFMM_OK) sm_model_copy_params(m, l);
    for (int i = 0; i < l->n_meta && st == SELFMM_OK; i++) {
        if (reserved_meta(l->meta_key[i])) continue;
        if (sm_model_meta_set(m, l->meta_key[i], l->meta_val[i]) != SELFMM_OK)
            st = sm_error_copy(err, &m->err);
    }
    return st;
}

selfmm_status sm_model_from_native(const sm_tensor_list *l, const char *path, selfmm_model **out,
                                   selfmm_error *err)
{
    selfmm_config cfg;
    SM_TRY(native_config(l, path, &cfg, err));
    /* a run setting, not a property of the weights: a loaded model computes in fp32
     * until selfmm_model_set_precision, on any CPU */
    cfg.precision = SELFMM_PRECISION_FP32;
    /* The stored config sizes the model's memory: before allocating it, every
     * parameter it describes must be in the file, so the model is never larger
     * than the file (a forged config cannot ask for terabytes). */
    sm_param_table tab;
    SM_TRY(sm_params_build(&cfg, &tab, err));
    selfmm_status cst = check_table(&tab, l, path, err);
    sm_params_free(&tab);
    SM_TRY(cst);
    selfmm_model *m;
    SM_TRY(sm_model_create(&cfg, SM_NET_INIT_NONE, &m, err)); /* every weight comes from the file */
    selfmm_status st = native_fill(m, l, path, err);
    if (st != SELFMM_OK) {
        selfmm_model_free(m);
        return st;
    }
    *out = m;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_model_load_weights(selfmm_model *m, const char *path)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    sm_tensor_list l;
    SM_TRY(read_for(m, "load weights", path, &l));
    selfmm_config cfg;
    selfmm_status st = native_config(&l, path, &cfg, &m->err);
    /* Shapes are checked tensor by tensor; the head count changes no shape. */
    if (st == SELFMM_OK && cfg.num_attention_heads != m->net.cfg.num_attention_heads)
        st = sm_error(&m->err, SELFMM_ERR_SHAPE, "%s: num_attention_heads %d, the model has %d", path,
                      cfg.num_attention_heads, m->net.cfg.num_attention_heads);
    if (st == SELFMM_OK) st = native_fill(m, &l, path, &m->err);
    sm_tensors_free(&l);
    return st;
}

SELFMM_API selfmm_status selfmm_model_load(const char *path, selfmm_model **out, selfmm_error *err)
{
    if (!path || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "model load: NULL argument");
    sm_tensor_list l;
    SM_TRY(sm_read_checkpoint(path, &l, err));
    selfmm_status st = sm_model_from_native(&l, path, out, err);
    sm_tensors_free(&l);
    return st;
}
