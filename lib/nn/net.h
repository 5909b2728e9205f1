/* net.h -- the network as compute code sees it: the config it was built for, the
 * parameter table, one parameter arena and one gradient arena of the same layout,
 * named pointers into both, the dropout step counter and the compute state
 * (activations, oneDNN primitives) created by the first forward.
 *
 * Everything in nn/ works on an sm_net and reports failures through the
 * selfmm_error it is given; it knows nothing of the selfmm_model handle, which
 * embeds one sm_net (model/model.h) and passes its own error record. */
#ifndef SM_NN_NET_H
#define SM_NN_NET_H

#include "nn/params.h"

struct sm_compute; /* compute.h, owned by the forward/backward code */

typedef struct sm_net {
    selfmm_config cfg;           /* a copy, validated */
    sm_param_table table;
    float *params;               /* (table.total) parameter arena */
    float *grads;                /* (table.total) gradient arena, same layout */
    sm_weights w;                /* named pointers into params */
    sm_weights g;                /* named pointers into grads */
    uint64_t step;               /* dropout step counter: training forwards so far */
    selfmm_shard_info shard;     /* selfmm_model_set_shard: the batches are shares of a global
                                    batch (dropout keys, loss denominator, BERT's run length);
                                    zero: each batch is whole */
    uint64_t weights_version;    /* bumped by everything that may change a weight (loaders,
                                    initialisation, the optimizer step, a writable pointer
                                    handed out): bf16 mode converts BERT's weights again
                                    when it changed (docs/MODEL.md §8) */
    struct sm_compute *compute;  /* NULL until the first forward */
} sm_net;

/* The weights may have changed (see weights_version). */
static inline void sm_net_weights_changed(sm_net *n) { n->weights_version++; }

/* ---- net.c ------------------------------------------------------------------------- */
/* What sm_net_init initialises. */
enum {
    SM_NET_INIT_NONE = 0, /* nothing: the caller writes every weight next */
    SM_NET_INIT_ALL = 1   /* every weight (sm_params_init) */
};

/* Build the table and both arenas for cfg (validated first). With SM_NET_INIT_ALL the
 * weights are initialised as PyTorch initialises a fresh model, from cfg->seed; with
 * SM_NET_INIT_NONE they are left unset (only the padding between them is zeroed), for
 * callers that overwrite every one of them next (initialising, or even clearing, 100M
 * parameters only to overwrite them is wasted time: 3.8 s for bert-base). The
 * gradients start at zero. On failure everything
 * allocated is freed again (sm_net_free on n stays harmless). */
selfmm_status sm_net_init(sm_net *n, const selfmm_config *cfg, int init, selfmm_error *err);
void sm_net_free(sm_net *n);
void sm_net_zero_grad(sm_net *n);

/* ---- forward.c: the contract of selfmm_model_forward / _loss / _backward ------------ */
selfmm_status sm_net_forward(sm_net *n, const selfmm_batch *bt, selfmm_mode mode, selfmm_outputs *out,
                             selfmm_error *err);
selfmm_status sm_net_loss(sm_net *n, const float *const labels[4], selfmm_loss *loss, selfmm_error *err);
selfmm_status sm_net_backward(sm_net *n, const float *const *grad, selfmm_error *err);
/* The timings of the last forward and backward (zero before the first). */
void sm_net_timings(const sm_net *n, selfmm_timings *t);
/* Frees the compute state. */
void sm_compute_free(struct sm_compute *c);

#endif
