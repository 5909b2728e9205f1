/* model.c -- creating, freeing and inspecting a model; its metadata strings. The
 * compute calls are in steps.c, files in model_io.c. */
#include "model/model.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

SELFMM_API selfmm_status selfmm_model_create(const selfmm_config *cfg, selfmm_model **out,
                                             selfmm_error *err)
{
    return sm_model_create(cfg, SM_NET_INIT_ALL, out, err);
}

SELFMM_API selfmm_status selfmm_model_create_ex(const selfmm_config *cfg, selfmm_init_mode init,
                                                selfmm_model **out, selfmm_error *err)
{
    if (init == SELFMM_INIT_ALL) return selfmm_model_create(cfg, out, err);
    if (init != SELFMM_INIT_NONE && init != SELFMM_INIT_ALL_BUT_BERT)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "model create: bad init mode %d", (int)init);
    SM_TRY(sm_model_create(cfg, SM_NET_INIT_NONE, out, err));
    sm_net *n = &(*out)->net;
    /* zeros where nothing is initialised, rather than whatever the allocator had:
     * 0.15 s for bert-base, against 2.5 s of initialising BERT */
    memset(n->params, 0, (size_t)n->table.total * sizeof(float));
    if (init == SELFMM_INIT_ALL_BUT_BERT) sm_params_init(&n->table, n->params, (uint64_t)cfg->seed, 1);
    sm_net_weights_changed(n);
    return SELFMM_OK;
}

selfmm_status sm_model_create(const selfmm_config *cfg, int init, selfmm_model **out,
                              selfmm_error *err)
{
    if (!cfg || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "model create: NULL argument");
    selfmm_model *m = calloc(1, sizeof *m);
    if (!m) return sm_error(err, SELFMM_ERR_NOMEM, "model create: out of memory");
    selfmm_status st = sm_net_init(&m->net, cfg, init, err);
    if (st != SELFMM_OK) {
        free(m);
        return st;
    }
    *out = m;
    return SELFMM_OK;
}

SELFMM_API void selfmm_model_free(selfmm_model *m)
{
    if (!m) return;
    sm_net_free(&m->net);
    for (int i = 0; i < m->n_meta; i++) free(m->meta[i].key), free(m->meta[i].value);
    free(m->meta);
    free(m);
}

selfmm_status sm_model_meta_set(selfmm_model *m, const char *key, const char *value)
{
    for (int i = 0; i < m->n_meta; i++) {
        if (strcmp(m->meta[i].key, key) != 0) continue;
        if (!value) {
            free(m->meta[i].key), free(m->meta[i].value);
            m->meta[i] = m->meta[--m->n_meta];
            return SELFMM_OK;
        }
        char *v = sm_strdup(value);
        if (!v) return sm_error(&m->err, SELFMM_ERR_NOMEM, "model metadata: out of memory");
        free(m->meta[i].value);
        m->meta[i].value = v;
        return SELFMM_OK;
    }
    if (!value) return SELFMM_OK;
    sm_meta *grown = realloc(m->meta, (size_t)(m->n_meta + 1) * sizeof *grown);
    if (!grown) return sm_error(&m->err, SELFMM_ERR_NOMEM, "model metadata: out of memory");
    m->meta = grown;
    char *k = sm_strdup(key), *v = sm_strdup(value);
    if (!k || !v) {
        free(k), free(v);
        return sm_error(&m->err, SELFMM_ERR_NOMEM, "model metadata: out of memory");
    }
    m->meta[m->n_meta].key = k;
    m->meta[m->n_meta].value = v;
    m->n_meta++;
    return SELFMM_OK;
}

const char *sm_model_meta_get(const selfmm_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0) return m->meta[i].value;
    return NULL;
}

SELFMM_API const char *selfmm_model_errmsg(const selfmm_model *m)
{
    return m ? m->err.message : "NULL model";
}

SELFMM_API selfmm_status selfmm_model_get_config(const selfmm_model *m, selfmm_config *cfg)
{
    if (!m || !cfg) return SELFMM_ERR_INVALID_ARG;
    *cfg = m->net.cfg;
    return SELFMM_OK;
}

SELFMM_API int selfmm_model_num_params(const selfmm_model *m) { return m ? m->net.table.n : 0; }

SELFMM_API int64_t selfmm_model_num_floats(const selfmm_model *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->net.table.n; i++) n += m->net.table.p[i].numel;
    return n;
}

static void fill_info(selfmm_model *m, int i, selfmm_param_info *info)
{
    const sm_param *p = &m->net.table.p[i];
    info->name = p->name;
    info->ndim = p->ndim;
    for (int d = 0; d < 4; d++) info->shape[d] = p->shape[d];
    info->numel = p->numel;
    info->group = p->group;
    info->data = m->net.params + p->offset;
    sm_net_weights_changed(&m->net); /* the caller may write through data */
    info->grad = m->net.grads + p->offset;
}

SELFMM_API selfmm_status selfmm_model_param(selfmm_model *m, int i, selfmm_param_info *info)
{
    if (!m || !info) return SELFMM_ERR_INVALID_ARG;
    if (i < 0 || i >= m->net.table.n)
        return sm_error(&m->err, SELFMM_ERR_RANGE,
                        "parameter index %d out of range [0, %d)", i, m->net.table.n);
    fill_info(m, i, info);
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_model_find_param(selfmm_model *m, const char *name,
                                                 selfmm_param_info *info)
{
    if (!m || !name || !info) return SELFMM_ERR_INVALID_ARG;
    int i = sm_params_find(&m->net.table, name);
    if (i < 0)
        return sm_error(&m->err, SELFMM_ERR_NOT_FOUND, "no parameter named \"%s\"",
                        name);
    fill_info(m, i, info);
    return SELFMM_OK;
}
