/* adam.c -- Adam with L2 weight decay over the parameter table's five groups
 * (docs/MODEL.md §3.6).
 *
 * What torch.optim.Adam computes for one element, float32 throughout, with the
 * Python-float hyper-parameters rounded to float32 where they meet a tensor:
 *
 *   g  = fma(theta, wd, grad)              grad.add(p, alpha=wd)      (skipped when wd == 0)
 *   m  = fma(g, 1 - b1, m * b1)            exp_avg.mul_(b1).add_(g, alpha=1 - b1)
 *   torch >= 1.3 (MMSA):
 *     v = fma((1 - b2) * g, g, v * b2)     exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)
 *     d = sqrt(v) / sqrt(bc2) + eps        (exp_avg_sq.sqrt() / math.sqrt(bc2)).add_(eps)
 *     theta += (-(lr / bc1) * m) / d       p.addcdiv_(exp_avg, denom, value=-lr / bc1)
 *   torch <= 1.2 (Self-MM, adam_legacy):
 *     v = v * b2 + ((1 - b2) * g) * g      TH's addcmul, not fused
 *     d = sqrt(v) + eps                    exp_avg_sq.sqrt().add_(eps)
 *     theta += (-(lr * sqrt(bc2) / bc1) * m) / d
 *
 * with bc1 = 1 - b1^t, bc2 = 1 - b2^t in double. The fused multiply-adds are those
 * of ATen's vectorized add kernels (vec::fmadd) and of GCC contracting
 * `self + value * t1 * t2` in the AVX2 addcmul kernel; the torch >= 1.3 form is
 * bit-identical to Debian's torch 1.13 (tests/test_adam.c). The torch 1.2 form moved
 * eps under the bias correction in 1.3 (pytorch#22628); it also added the decay
 * into p.grad in place, which nothing observes (gradients are zeroed before the
 * next use), so we leave the model's gradients untouched. torch >= 2.0 computes the
 * first moment with exp_avg.lerp_(g, 1 - b1) instead: the same update up to the last
 * bit of m; the torch >= 1.3 form here is 1.3-1.13's.
 *
 * Every tensor of groups 0-4 is updated at every step, also with a zero gradient
 * (weight decay still moves it); group NONE is never touched. The loop is split
 * into chunks run in parallel; each element's result depends on nothing else, so
 * the thread count cannot change a bit. */
#include "train/adam.h"

#include "core/alloc.h"
#include "core/threads.h"
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#define BETA1 0.9
#define BETA2 0.999
#define EPS 1e-8
#define CHUNK 65536 /* floats per parallel work item */

typedef struct adam_chunk {
    int64_t off, len;   /* in the arena */
    int group;
} adam_chunk;

struct selfmm_optim {
    selfmm_model *model;
    selfmm_error err;
    int legacy;                 /* torch <= 1.2 form */
    double lr[5], wd[5];        /* per selfmm_param_group 0..4 */
    int64_t step;               /* steps taken */
    int64_t total;              /* floats in an arena */
    float *m, *v;               /* (total) exp_avg, exp_avg_sq */
    adam_chunk *chunk;
    int nchunk;
};

/* Per-group constants of one step, as float32 values the kernels use. */
typedef struct adam_k {
    float wd;           /* 0: no decay term at all */
    float b1, ob1, b2, ob2, eps;
    float step_size;    /* negative: the addcdiv value */
    float bc2_sqrt;     /* divisor of sqrt(v) (torch >= 1.3 only) */
    int legacy;
} adam_k;

/* ---- the element-wise kernel ---- */

static inline float adam_one(float *p, float grad, float *m, float *v, const adam_k *k)
{
    float g = k->wd != 0.0f ? fmaf(*p, k->wd, grad) : grad;
    float mm = fmaf(g, k->ob1, *m * k->b1);
    float vv = k->legacy ? *v * k->b2 + (k->ob2 * g) * g : fmaf(k->ob2 * g, g, *v * k->b2);
    float d = k->legacy ? sqrtf(vv) + k->eps : sqrtf(vv) / k->bc2_sqrt + k->eps;
    *m = mm, *v = vv;
    return *p + (k->step_size * mm) / d;
}

static void adam_run(float *p, const float *grad, float *m, float *v, int64_t n, const adam_k *k)
{
    int64_t i = 0;
#if defined(__AVX512F__)
    const __m512 wd = _mm512_set1_ps(k->wd), b1 = _mm512_set1_ps(k->b1),
                 ob1 = _mm512_set1_ps(k->ob1), b2 = _mm512_set1_ps(k->b2),
                 ob2 = _mm512_set1_ps(k->ob2), eps = _mm512_set1_ps(k->eps),
                 ss = _mm512_set1_ps(k->step_size), bc2 = _mm512_set1_ps(k->bc2_sqrt);
    const int decay = k->wd != 0.0f;
    for (; i + 16 <= n; i += 16) {
        __m512 pp = _mm512_loadu_ps(p + i), g = _mm512_loadu_ps(grad + i);
        if (decay) g = _mm512_fmadd_ps(pp, wd, g);
        __m512 mm = _mm512_fmadd_ps(g, ob1, _mm512_mul_ps(_mm512_loadu_ps(m + i), b1));
        __m512 vb = _mm512_mul_ps(_mm512_loadu_ps(v + i), b2), og = _mm512_mul_ps(ob2, g), vv, d;
        if (k->legacy) {
            vv = _mm512_add_ps(vb, _mm512_mul_ps(og, g));
            d = _mm512_add_ps(_mm512_sqrt_ps(vv), eps);
        } else {
            vv = _mm512_fmadd_ps(og, g, vb);
            d = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vv), bc2), eps);
        }
        _mm512_storeu_ps(m + i, mm);
        _mm512_storeu_ps(v + i, vv);
        _mm512_storeu_ps(p + i, _mm512_add_ps(pp, _mm512_div_ps(_mm512_mul_ps(ss, mm), d)));
    }
#elif defined(__AVX2__) && defined(__FMA__)
    const __m256 wd = _mm256_set1_ps(k->wd), b1 = _mm256_set1_ps(k->b1),
                 ob1 = _mm256_set1_ps(k->ob1), b2 = _mm256_set1_ps(k->b2),
                 ob2 = _mm256_set1_ps(k->ob2), eps = _mm256_set1_ps(k->eps),
                 ss = _mm256_set1_ps(k->step_size), bc2 = _mm256_set1_ps(k->bc2_sqrt);
    const int decay = k->wd != 0.0f;
    for (; i + 8 <= n; i += 8) {
        __m256 pp = _mm256_loadu_ps(p + i), g = _mm256_loadu_ps(grad + i);
        if (decay) g = _mm256_fmadd_ps(pp, wd, g);
        __m256 mm = _mm256_fmadd_ps(g, ob1, _mm256_mul_ps(_mm256_loadu_ps(m + i), b1));
        __m256 vb = _mm256_mul_ps(_mm256_loadu_ps(v + i), b2), og = _mm256_mul_ps(ob2, g), vv, d;
        if (k->legacy) {
            vv = _mm256_add_ps(vb, _mm256_mul_ps(og, g));
            d = _mm256_add_ps(_mm256_sqrt_ps(vv), eps);
        } else {
            vv = _mm256_fmadd_ps(og, g, vb);
            d = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vv), bc2), eps);
        }
        _mm256_storeu_ps(m + i, mm);
        _mm256_storeu_ps(v + i, vv);
        _mm256_storeu_ps(p + i, _mm256_add_ps(pp, _mm256_div_ps(_mm256_mul_ps(ss, mm), d)));
    }
#endif
    /* The rest (or everything without AVX2): the same operations, one element at a
     * time; IEEE fma, sqrt and division round identically in either path. */
    for (; i < n; i++) p[i] = adam_one(p + i, grad[i], m + i, v + i, k);
}

/* ---- handle ---- */

static selfmm_status build_chunks(selfmm_optim *o, selfmm_error *err)
{
    const sm_param_table *t = &o->model->net.table;
    int64_t n = 0;
    for (int i = 0; i < t->n; i++)
        if (t->p[i].group != SELFMM_GROUP_NONE) n += (t->p[i].numel + CHUNK - 1) / CHUNK;
    o->chunk = calloc((size_t)(n ? n : 1), sizeof *o->chunk);
    if (!o->chunk) return sm_error(err, SELFMM_ERR_NOMEM, "optimizer: out of memory");
    int c = 0;
    for (int i = 0; i < t->n; i++) {
        const sm_param *p = &t->p[i];
        if (p->group == SELFMM_GROUP_NONE) continue;
        for (int64_t s = 0; s < p->numel; s += CHUNK) {
            o->chunk[c].off = p->offset + s;
            o->chunk[c].len = p->numel - s < CHUNK ? p->numel - s : CHUNK;
            o->chunk[c].group = (int)p->group;
            c++;
        }
    }
    o->nchunk = c;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_optim_create(selfmm_model *model, const selfmm_config *cfg,
                                             selfmm_optim **out, selfmm_error *err)
{
    if (!model || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "optimizer create: NULL argument");
    if (!cfg) cfg = &model->net.cfg;
    SM_TRY(selfmm_config_validate(cfg, err));
    selfmm_optim *o = calloc(1, sizeof *o);
    if (!o) return sm_error(err, SELFMM_ERR_NOMEM, "optimizer create: out of memory");
    o->model = model;
    o->legacy = cfg->adam_legacy != 0;
    o->lr[SELFMM_GROUP_BERT_DECAY] = cfg->learning_rate_bert;
    o->wd[SELFMM_GROUP_BERT_DECAY] = cfg->weight_decay_bert;
    o->lr[SELFMM_GROUP_BERT_NO_DECAY] = cfg->learning_rate_bert;
    o->wd[SELFMM_GROUP_BERT_NO_DECAY] = 0.0;
    o->lr[SELFMM_GROUP_AUDIO] = cfg->learning_rate_audio;
    o->wd[SELFMM_GROUP_AUDIO] = cfg->weight_decay_audio;
    o->lr[SELFMM_GROUP_VIDEO] = cfg->learning_rate_video;
    o->wd[SELFMM_GROUP_VIDEO] = cfg->weight_decay_video;
    o->lr[SELFMM_GROUP_OTHER] = cfg->learning_rate_other;
    o->wd[SELFMM_GROUP_OTHER] = cfg->weight_decay_other;
    o->total = model->net.table.total;
    o->m = sm_calloc((size_t)o->total, sizeof(float));
    o->v = sm_calloc((size_t)o->total, sizeof(float));
    selfmm_status st = SELFMM_OK;
    if (!o->m || !o->v)
        st = sm_error(err, SELFMM_ERR_NOMEM, "optimizer create: cannot allocate 2 x %lld floats",
                      (long long)o->total);
    if (st == SELFMM_OK) st = build_chunks(o, err);
    if (st != SELFMM_OK) {
        selfmm_optim_free(o);
        return st;
    }
    *out = o;
    return SELFMM_OK;
}

SELFMM_API void selfmm_optim_free(selfmm_optim *o)
{
    if (!o) return;
    sm_free(o->m);
    sm_free(o->v);
    free(o->chunk);
    free(o);
}

SELFMM_API const char *selfmm_optim_errmsg(const selfmm_optim *o)
{
    return o ? o->err.message : "NULL optimizer";
}

SELFMM_API selfmm_status selfmm_optim_step(selfmm_optim *o)
{
    if (!o) return SELFMM_ERR_INVALID_ARG;
    sm_threads_apply();
    const int64_t t = o->step + 1;
    /* Python: bias_correction1 = 1 - beta1 ** step (double), then the step size;
     * the scalars become float32 where they meet the tensors. */
    const double bc1 = 1.0 - pow(BETA1, (double)t), bc2 = 1.0 - pow(BETA2, (double)t);
    adam_k k[5];
    for (int g = 0; g < 5; g++) {
        k[g].wd = (float)o->wd[g];
        k[g].b1 = (float)BETA1, k[g].ob1 = (float)(1.0 - BETA1);
        k[g].b2 = (float)BETA2, k[g].ob2 = (float)(1.0 - BETA2);
        k[g].eps = (float)EPS;
        k[g].legacy = o->legacy;
        if (o->legacy) {
            k[g].step_size = (float)-(o->lr[g] * sqrt(bc2) / bc1);
            k[g].bc2_sqrt = 1.0f;
        } else {
            k[g].step_size = (float)-(o->lr[g] / bc1);
            k[g].bc2_sqrt = (float)sqrt(bc2);
        }
    }
    float *params = o->model->net.params;
    const float *grads = o->model->net.grads;
    const adam_chunk *ch = o->chunk;
    const int nchunk = o->nchunk;
    float *m = o->m, *v = o->v;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < nchunk; c++) {
        const int64_t off = ch[c].off;
        adam_run(params + off, grads + off, m + off, v + off, ch[c].len, &k[ch[c].group]);
    }
    o->step = t;
    sm_net_weights_changed(&o->model->net);
    return SELFMM_OK;
}

/* ---- checkpoint state ---- */

int64_t sm_optim_get_step(const selfmm_optim *o) { return o ? o->step : 0; }
void sm_optim_set_step(selfmm_optim *o, int64_t step) { o->step = step; }

void sm_optim_state(const selfmm_optim *o, sm_state_tensor t[2])
{
    t[0].name = "adam.exp_avg", t[0].data = o->m, t[0].numel = o->total;
    t[1].name = "adam.exp_avg_sq", t[1].data = o->v, t[1].numel = o->total;
}

selfmm_status sm_optim_restore(selfmm_optim *o, const sm_state_tensor *t, int n, int64_t step)
{
    if (!o || (!t && n)) return SELFMM_ERR_INVALID_ARG;
    if (step < 0)
        return sm_error(&o->err, SELFMM_ERR_RANGE, "optimizer state: step %lld < 0", (long long)step);
    const float *m = sm_state_find(t, n, "adam.exp_avg", o->total, &o->err);
    if (!m) return o->err.status;
    const float *v = sm_state_find(t, n, "adam.exp_avg_sq", o->total, &o->err);
    if (!v) return o->err.status;
    /* Every moment finite, every second moment >= 0, and 0 outside the updated
     * tensors; report the first offender by tensor name. The chunks follow the
     * parameter table, whose offsets increase: the gaps between them are what the
     * optimizer never touches (group NONE, padding). */
    int64_t bad = -1, at = 0;
    const char *what = NULL;
    for (int c = 0; c <= o->nchunk && bad < 0; c++) {
        const int64_t start = c < o->nchunk ? o->chunk[c].off : o->total;
        for (; at < start && bad < 0; at++)
            if (m[at] != 0.0f || v[at] != 0.0f) bad = at, what = "non-zero outside the optimized tensors";
        const int64_t end = c < o->nchunk ? start + o->chunk[c].len : start;
        for (; at < end && bad < 0; at++) {
            if (!isfinite(m[at]) || !isfinite(v[at])) bad = at, what = "not finite";
            else if (v[at] < 0.0f) bad = at, what = "a negative second moment";
        }
    }
    if (bad >= 0) {
        const sm_param_table *tab = &o->model->net.table;
        const char *name = "(padding)";
        at = bad;
        for (int i = 0; i < tab->n; i++)
            if (bad >= tab->p[i].offset && bad < tab->p[i].offset + tab->p[i].numel)
                name = tab->p[i].name, at = bad - tab->p[i].offset;
        return sm_error(&o->err, SELFMM_ERR_DATA, "optimizer state: moment of %s element %lld is %s",
                        name, (long long)at, what);
    }
    memcpy(o->m, m, (size_t)o->total * sizeof(float));
    memcpy(o->v, v, (size_t)o->total * sizeof(float));
    o->step = step;
    return SELFMM_OK;
}
