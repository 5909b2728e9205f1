/* net.c -- building and freeing the network's table and arenas (no compute here). */
#include "nn/net.h"

#include "core/alloc.h"

#include <string.h>

selfmm_status sm_net_init(sm_net *n, const selfmm_config *cfg, int init, selfmm_error *err)
{
    memset(n, 0, sizeof *n);
    SM_TRY(selfmm_config_validate(cfg, err));
    /* before anything bf16 exists: refuse where bf16 cannot run as it should */
    SM_TRY(selfmm_precision_check((selfmm_precision)cfg->precision, err));
    n->cfg = *cfg;
    n->weights_version = 1;
    selfmm_status st = sm_params_build(cfg, &n->table, err);
    if (st == SELFMM_OK) {
        n->params = sm_alloc((size_t)n->table.total, sizeof(float));
        n->grads = sm_calloc((size_t)n->table.total, sizeof(float));
        if (!n->params || !n->grads)
            st = sm_error(err, SELFMM_ERR_NOMEM, "model create: cannot allocate 2 x %lld floats",
                          (long long)n->table.total);
    }
    if (st == SELFMM_OK) st = sm_weights_bind(cfg, &n->table, n->params, &n->w, err);
    if (st == SELFMM_OK) st = sm_weights_bind(cfg, &n->table, n->grads, &n->g, err);
    if (st != SELFMM_OK) {
        sm_net_free(n);
        return st;
    }
    /* Every tensor is written next (by init or by the caller): only the padding
     * needs zeroing here, not the whole 100M-float arena. */
    sm_params_zero_padding(&n->table, n->params);
    if (init != SM_NET_INIT_NONE) sm_params_init(&n->table, n->params, (uint64_t)cfg->seed, 0);
    return SELFMM_OK;
}

void sm_net_free(sm_net *n)
{
    sm_compute_free(n->compute);
    sm_weights_free(&n->w);
    sm_weights_free(&n->g);
    sm_free(n->params);
    sm_free(n->grads);
    sm_params_free(&n->table);
    memset(n, 0, sizeof *n);
}

void sm_net_zero_grad(sm_net *n) { memset(n->grads, 0, (size_t)n->table.total * sizeof(float)); }
