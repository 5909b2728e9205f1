/* steps.c -- the step-level compute calls on a model: forward, loss, backward, zeroing
 * the gradients, the dropout step counter and the timings. The network does the work
 * (nn/forward.c); these wrappers give it the model's error record. */
#include "model/model.h"

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
