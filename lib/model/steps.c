/* steps.c -- the step-level compute calls on a model: forward, loss, backward, zeroing
 * the gradients, the dropout step counter, the timings, and for data-parallel runs the
 * shard setting, the arenas and their hash. The network does the work (nn/forward.c);
 * these wrappers give it the model's error record. */
#include "model/model.h"
#include "nn/ops.h"

#include <string.h>

SELFMM_API selfmm_status selfmm_model_forward(selfmm_model *m, const selfmm_batch *bt,
                                              selfmm_mode mode, selfmm_outputs *out)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    return sm_net_forward(&m->net, bt, mode, out, &m->err);
}

SELFMM_API selfmm_status selfmm_model_loss(selfmm_model *m, const float *const labels[4],
                                           selfmm_loss *loss)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    return sm_net_loss(&m->net, labels, loss, &m->err);
}

SELFMM_API selfmm_status selfmm_model_backward(selfmm_model *m, const float *const *grad)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    return sm_net_backward(&m->net, grad, &m->err);
}

SELFMM_API void selfmm_model_zero_grad(selfmm_model *m)
{
    if (m) sm_net_zero_grad(&m->net);
}

SELFMM_API uint64_t selfmm_model_get_step(const selfmm_model *m) { return m ? m->net.step : 0; }

SELFMM_API selfmm_status selfmm_model_set_precision(selfmm_model *m, selfmm_precision precision)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    SM_TRY(selfmm_precision_check(precision, &m->err));
    /* the next forward sizes its buffers for the new precision (nn/buffers.h) */
    m->net.cfg.precision = (int)precision;
    return SELFMM_OK;
}

SELFMM_API void selfmm_model_set_step(selfmm_model *m, uint64_t step)
{
    if (m) m->net.step = step;
}

SELFMM_API selfmm_status selfmm_model_timings(const selfmm_model *m, selfmm_timings *t)
{
    if (!m || !t) return SELFMM_ERR_INVALID_ARG;
    sm_net_timings(&m->net, t);
    return SELFMM_OK;
}

/* ---- data-parallel shards and the arenas (see "Several processes" in selfmm.h) ---- */

SELFMM_API selfmm_status selfmm_model_set_shard(selfmm_model *m, const selfmm_shard_info *shard)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!shard) {
        memset(&m->net.shard, 0, sizeof m->net.shard);
        return SELFMM_OK;
    }
    if (shard->sample_offset < 0 || shard->global_batch < 0 || shard->text_run_len < 0 ||
        shard->global_batch > SM_DROPOUT_MAX_BATCH || (shard->global_batch == 0 && shard->sample_offset != 0) ||
        shard->sample_offset > shard->global_batch)
        return sm_error(&m->err, SELFMM_ERR_RANGE,
                        "shard: sample offset %d, global batch %d (at most %d), text run length %d",
                        shard->sample_offset, shard->global_batch, SM_DROPOUT_MAX_BATCH, shard->text_run_len);
    m->net.shard = *shard;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_model_arena(selfmm_model *m, selfmm_arena *out)
{
    if (!m || !out) return SELFMM_ERR_INVALID_ARG;
    out->params = m->net.params;
    sm_net_weights_changed(&m->net); /* the caller may write through params */
    out->grads = m->net.grads;
    out->count = m->net.table.total;
    return SELFMM_OK;
}

SELFMM_API uint64_t selfmm_model_hash(const selfmm_model *m)
{
    if (!m) return 0;
    /* four independent multiply-xor lanes over 32-bit words (the arena's floats), so
     * the multiplications overlap: memory speed, ~0.1 s for bert-base's 0.4 GB */
    const uint32_t *w = (const uint32_t *)(const void *)m->net.params;
    const int64_t n = m->net.table.total;
    uint64_t h[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                     0x27D4EB2F165667C5ull};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) h[k] = (h[k] ^ w[i + k]) * 0x100000001B3ull;
    for (; i < n; i++) h[0] = (h[0] ^ w[i]) * 0x100000001B3ull;
    uint64_t r = (uint64_t)n;
    for (int k = 0; k < 4; k++) r = (r ^ h[k] ^ (h[k] >> 29)) * 0xBF58476D1CE4E5B9ull;
    return r;
}
