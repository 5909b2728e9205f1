/* dnnl_ctx.c -- see dnnl_ctx.h. */
#include "nn/dnnl_ctx.h"

#include "core/clock.h"
#include "nn/gemm_clock.h"

#include <dnnl_debug.h>
#include <string.h>

_Thread_local double sm_gemm_seconds;

selfmm_status sm_dnnl_check(dnnl_status_t s, const char *what, selfmm_error *err)
{
    if (s == dnnl_success) return SELFMM_OK;
    return sm_error(err, SELFMM_ERR_BACKEND, "oneDNN: %s: %s", what, dnnl_status2str(s));
}

selfmm_status sm_dnnl_init(sm_dnnl *d, selfmm_error *err)
{
    memset(d, 0, sizeof *d);
    SM_DNNL(dnnl_engine_create(&d->engine, dnnl_cpu, 0), "engine create", err);
    selfmm_status st = sm_dnnl_check(dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags),
                                     "stream create", err);
    if (st != SELFMM_OK) {
        dnnl_engine_destroy(d->engine);
        d->engine = NULL;
    }
    return st;
}

static void entry_clear(sm_mm_entry *e)
{
    if (e->prim) dnnl_primitive_destroy(e->prim);
    if (e->a) dnnl_memory_destroy(e->a);
    if (e->b) dnnl_memory_destroy(e->b);
    if (e->c) dnnl_memory_destroy(e->c);
    if (e->bias) dnnl_memory_destroy(e->bias);
    memset(e, 0, sizeof *e);
}

void sm_dnnl_destroy(sm_dnnl *d)
{
    if (!d) return;
    for (int i = 0; i < SM_MM_CACHE; i++) entry_clear(&d->mm[i]);
    if (d->stream) dnnl_stream_destroy(d->stream);
    if (d->engine) dnnl_engine_destroy(d->engine);
    memset(d, 0, sizeof *d);
}

static selfmm_status view_md(dnnl_memory_desc_t *md, int64_t b0, int64_t b1, int64_t r, int64_t c,
                             const int64_t s[4], int64_t type, selfmm_error *err)
{
    dnnl_dims_t dims = {b0, b1, r, c}, strides = {s[0], s[1], s[2], s[3]};
    const dnnl_data_type_t t = type ? (dnnl_data_type_t)type : dnnl_f32;
    SM_DNNL(dnnl_memory_desc_init_by_strides(md, 4, dims, t, strides), "matmul view", err);
    return SELFMM_OK;
}

static selfmm_status entry_build(sm_dnnl *d, sm_mm_entry *e, const sm_mm_desc *k, selfmm_error *err)
{
    dnnl_memory_desc_t ma, mb, mc, mbias;
    SM_TRY(view_md(&ma, k->b0, k->b1, k->M, k->K, k->sa, k->ta, err));
    SM_TRY(view_md(&mb, k->b0, k->b1, k->K, k->N, k->sb, k->tb, err));
    SM_TRY(view_md(&mc, k->b0, k->b1, k->M, k->N, k->sc, k->tc, err));
    const int64_t sbias[4] = {k->N, k->N, k->N, 1};
    SM_TRY(view_md(&mbias, 1, 1, 1, k->N, sbias, 0, err));
    dnnl_matmul_desc_t desc;
    SM_DNNL(dnnl_matmul_desc_init(&desc, &ma, &mb, k->bias ? &mbias : NULL, &mc), "matmul desc", err);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    selfmm_status st = SELFMM_OK;
    if (k->accumulate || k->gelu) {
        st = sm_dnnl_check(dnnl_primitive_attr_create(&attr), "attr create", err);
        if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_post_ops_create(&ops), "post ops", err);
        if (st == SELFMM_OK && k->accumulate)
            st = sm_dnnl_check(dnnl_post_ops_append_sum(ops, 1.0f), "sum post op", err);
        if (st == SELFMM_OK && k->gelu)
            st = sm_dnnl_check(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f),
                               "gelu post op", err);
        if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_primitive_attr_set_post_ops(attr, ops), "set post ops", err);
    }
    dnnl_primitive_desc_t pd = NULL;
    if (st == SELFMM_OK)
        st = sm_dnnl_check(dnnl_primitive_desc_create(&pd, &desc, attr, d->engine, NULL),
                           "matmul primitive descriptor", err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_primitive_create(&e->prim, pd), "matmul primitive", err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_memory_create(&e->a, &ma, d->engine, DNNL_MEMORY_NONE), "memory", err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_memory_create(&e->b, &mb, d->engine, DNNL_MEMORY_NONE), "memory", err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_memory_create(&e->c, &mc, d->engine, DNNL_MEMORY_NONE), "memory", err);
    if (st == SELFMM_OK && k->bias)
        st = sm_dnnl_check(dnnl_memory_create(&e->bias, &mbias, d->engine, DNNL_MEMORY_NONE), "memory", err);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st != SELFMM_OK) {
        entry_clear(e);
        return st;
    }
    e->key = *k;
    return SELFMM_OK;
}

selfmm_status sm_dnnl_matmul(sm_dnnl *d, const sm_mm_desc *desc, const void *a, const void *b,
                             const float *bias, void *c, selfmm_error *err)
{
    sm_mm_entry *e = NULL, *victim = &d->mm[0];
    for (int i = 0; i < SM_MM_CACHE; i++) {
        sm_mm_entry *x = &d->mm[i];
        if (x->used && memcmp(&x->key, desc, sizeof *desc) == 0) {
            e = x;
            break;
        }
        if (x->used < victim->used) victim = x;
    }
    if (!e) {
        entry_clear(victim);
        SM_TRY(entry_build(d, victim, desc, err));
        e = victim;
    }
    e->used = ++d->tick;
    SM_DNNL(dnnl_memory_set_data_handle(e->a, (void *)a), "matmul set handle", err);
    SM_DNNL(dnnl_memory_set_data_handle(e->b, (void *)b), "matmul set handle", err);
    SM_DNNL(dnnl_memory_set_data_handle(e->c, c), "matmul set handle", err);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c},
                               {DNNL_ARG_BIAS, e->bias}};
    if (desc->bias) SM_DNNL(dnnl_memory_set_data_handle(e->bias, (void *)bias), "matmul set handle", err);
    const double t0 = sm_now(); /* the run, not a first call's primitive creation */
    SM_DNNL(dnnl_primitive_execute(e->prim, d->stream, desc->bias ? 4 : 3, args), "matmul execute", err);
    SM_DNNL(dnnl_stream_wait(d->stream), "stream wait", err);
    sm_gemm_seconds += sm_now() - t0;
    return SELFMM_OK;
}

sm_mm_desc sm_mm_2d(int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, int64_t ta, int64_t tb,
                    int64_t tc)
{
    sm_mm_desc d;
    memset(&d, 0, sizeof d); /* the desc is a cache key: no stray bytes */
    d.b0 = d.b1 = 1, d.M = M, d.N = N, d.K = K, d.ta = ta, d.tb = tb, d.tc = tc;
    const int64_t MK = M * K, KN = K * N, MN = M * N;
    d.sa[0] = d.sa[1] = MK, d.sb[0] = d.sb[1] = KN, d.sc[0] = d.sc[1] = MN;
    if (trans_a) d.sa[2] = 1, d.sa[3] = M; /* stored (K, M) */
    else d.sa[2] = K, d.sa[3] = 1;
    if (trans_b) d.sb[2] = 1, d.sb[3] = K; /* stored (N, K) */
    else d.sb[2] = N, d.sb[3] = 1;
    d.sc[2] = N, d.sc[3] = 1;
    return d;
}

selfmm_status sm_dnnl_dense(sm_dnnl *d, float *out, const float *inp, const float *weight,
                            const float *bias, int N, int C, int OC, selfmm_error *err)
{
    /* weight (OC, C) read as weight^T, a (C, OC) view */
    sm_mm_desc m = sm_mm_2d(N, OC, C, 0, 1, 0, 0, 0);
    m.bias = bias != NULL;
    return sm_dnnl_matmul(d, &m, inp, weight, bias, out, err);
}
