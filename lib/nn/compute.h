/* compute.h -- the model's compute state: activations kept by a training forward for
 * the backward, scratch buffers, oneDNN objects, output arrays and timings. It hangs
 * off sm_net.compute, is created by the first forward and grows with the
 * largest (batch, length) seen (grow-only: a step of the same shape allocates
 * nothing). Each layer below lists its buffers once, in one table (the *_table
 * function next to its code), and nn/buffers.h grows and frees them; the struct
 * fields give their shapes.
 *
 * Data flow of one forward (docs/MODEL.md §2):
 *   bert.c     ids, mask, segments -> the text feature: the last layer's [CLS] row
 *              of each sample (B, H), computed at Lr = the batch's longest real
 *              length.
 *   subnet.c   audio / vision (B, T, D) -> LSTM final state -> dropout -> linear_1
 *   heads.c    four ReLU MLPs -> M, T, A, V and the features h_f, h_t, h_a, h_v
 * The backward runs the same files in reverse. */
#ifndef SM_NN_COMPUTE_H
#define SM_NN_COMPUTE_H

#include "nn/bf16.h"
#include "nn/buffers.h"
#include "nn/dnnl_ctx.h"
#include "nn/lstm.h"
#include "nn/net.h"
#include "nn/ops.h"

#include <stdint.h>

/* Dropout sites: stream ids of the Philox key (see ops.h). BERT uses 0 (embeddings)
 * and 1 + 3l + {0: attention probabilities, 1: attention output, 2: FFN output};
 * the rest sit at the top of the 16-bit range, away from any layer count. */
enum {
    SM_SITE_EMBEDDINGS = 0,
    SM_SITE_AUDIO_LSTM = 0xFF00,
    SM_SITE_VIDEO_LSTM = 0xFF01,
    SM_SITE_POST = 0xFF10        /* + SELFMM_FUSION .. SELFMM_VISION */
};
#define SM_SITE_LAYER(l, k) (1u + 3u * (uint32_t)(l) + (uint32_t)(k))
_Static_assert(SM_SITE_POST + SELFMM_VISION <= SM_DROPOUT_MAX_SITE, "dropout sites exceed 16 bits");

/* The dropout of one forward: p, and where masks come from. */
typedef struct sm_drop {
    int train;                   /* 0: every dropout is the identity */
    uint64_t seed, step;
    int first;                   /* local sample 0 is sample `first` of the global batch
                                    (selfmm_model_set_shard); masks are keyed by that */
} sm_drop;

/* ---- BERT ---------------------------------------------------------------------- */
typedef struct sm_bert_acts {    /* what one layer keeps for its backward. Query rows:
                                  * Nq = N = B*L (Lq = L), or Nq = B in the last layer
                                  * (Lq = 1, the [CLS] rows only). Buffers hold N rows. */
    float *q;                    /* (Nq, H) query projection */
    float *k, *v;                /* (N, H) key and value projections */
    float *probs;                /* (B, nh, Lq, L) attention probabilities */
    float *probs_d;              /* (B, nh, Lq, L) after dropout (attention dropout only) */
    uint8_t *probs_mask;         /* (B, nh, Lq, L) */
    float *ctx;                  /* (Nq, H) attention context */
    uint8_t *attn_mask;          /* (Nq, H) dropout mask after attention.output.dense */
    float *res1, *ln1;           /* (Nq, H) LayerNorm 1 input (xq + dropout(dense)), output */
    float *mean1, *rstd1;        /* (Nq) */
    float *pre;                  /* (Nq, I) intermediate.dense output, bias included */
    uint8_t *out_mask;           /* (Nq, H) dropout mask after output.dense */
    float *res2, *ln2;           /* (Nq, H) LayerNorm 2 input, output = the layer's output */
    float *mean2, *rstd2;        /* (Nq) */
    /* precision bf16 (docs/MODEL.md §8): the GEMM inputs the backward needs, in bf16;
     * q, k, v, probs_d, ctx and ln1 above are then not kept (ln1 is scratch in sm_bert) */
    sm_bf16 *q16, *k16, *v16;    /* (Nq, H), (N, H), (N, H) */
    sm_bf16 *probs_d16;          /* (B, nh, Lq, L) probabilities after dropout (always) */
    sm_bf16 *x16;                /* (N, H) the layer's input */
    sm_bf16 *ctx16, *ln116;      /* (Nq, H) */
    sm_bf16 *pre16;              /* (Nq, I) intermediate.dense output, bias included (pre
                                    and ln2 above are then not kept either) */
} sm_bert_acts;

typedef struct sm_bert {
    const selfmm_config *cfg;    /* the net's (which owns this state); NULL until created */
    int B, L;                    /* shape of the last forward (L = run length) */
    int P;                       /* the kept rows of the last forward (docs/MODEL.md §2.1):
                                  * every layer but the last runs on these P <= B*L rows */
    int32_t *prow;               /* (P) kept row r's place b*L + t in the (B, L) layout, ascending */
    int32_t *first_row;          /* (B) sample b's [CLS] row among the kept rows */
    sm_bufsize cap;              /* capacity of every buffer below: tokens (B*L) and
                                  * attention elements (B*nh*L*L), the largest seen */
    int n_acts;                  /* layers with activation storage */
    float *maskbias;             /* (B, L) (1 - mask) * -10000 */
    int32_t *ids, *segs;         /* (B, L) the batch's token and segment ids, for backward */
    float *emb_sum, *emb_ln;     /* (N, H) embeddings before / after LayerNorm */
    float *emb_mean, *emb_rstd;  /* (N) */
    uint8_t *emb_mask;           /* (N, H) (hidden dropout only) */
    float *x0;                   /* (N, H) input of layer 0 (emb_ln after dropout; hidden dropout only) */
    sm_bert_acts *acts;          /* [n_acts]; eval mode alternates acts[0] and acts[1] */
    float *tmp;                  /* (N, H) dense outputs before the fused tail */
    float *gelu;                 /* (N, I) GELU output (forward), recomputed in backward */
    float *xq;                   /* (B, H) the last layer's query rows: its input at [CLS] */
    const float *out;            /* (B, H) the last layer's output: the [CLS] rows only */
    /* backward scratch, allocated by the first backward (and the first after the
     * capacity grew) */
    float *dx, *dx2, *dln1, *dtmp, *dctx, *dq, *dk, *dv, *dxq; /* (N, H) */
    float *dgelu, *dpre;         /* (N, I) */
    float *dprobs;               /* (B, nh, L, L) */
    /* precision bf16 only (docs/MODEL.md §8) */
    int bf16;                    /* the layer buffers are sized for bf16 */
    sm_bf16 *w16;                /* bf16 copies of every layer's q, k, v, ao, i, o weights */
    uint64_t w16_version;        /* the sm_net weights_version they were made from; 0: none */
    float *ln1_s;                /* (N, H) ln1 of the current layer */
    float *ln2_s[2];             /* (N, H) the layers' outputs, alternating */
    sm_bf16 *xq16;               /* (B, H) the last layer's [CLS] input rows, room for N */
    sm_bf16 *g16;                /* (N, I) GELU output (forward, and recomputed in backward) */
    sm_bf16 *d16;                /* (N, H) the output gradient of a dense layer in backward */
    sm_bf16 *dpre16;             /* (N, I) bf16(dpre), written by GELU's backward */
    sm_bf16 *dt16;               /* (OC, N) a dense layer's output gradient, transposed, for dW */
    sm_bf16 *dctx16;             /* (N, H) backward: the attention context's gradient */
    sm_bf16 *dprobs16;           /* (B, nh, L, L) backward: the scores' gradient */
} sm_bert;

/* ---- audio / vision subnets ---------------------------------------------------- */
typedef struct sm_subnet {
    const char *name;            /* "audio" or "vision": errors say which */
    sm_lstm *lstm;               /* samples [0, split) */
    sm_lstm *lstm2;              /* samples [split, B) when the batch is split in two */
    int in_dim, hidden, out_dim;
    sm_bufsize cap;              /* the largest batch seen */
    int B;
    int split;                   /* B: one LSTM; less: two halves, side by side (forward.c) */
    float *g2;                   /* the second half's LSTM gradients (w_ih, w_hh, b_ih, b_hh),
                                  * added to the model's after both halves ran */
    float p;                     /* dropout of the last forward (0: none) */
    float *h;                    /* (B, hidden) LSTM final state */
    float *hd;                   /* (B, hidden) after dropout */
    uint8_t *mask;               /* (B, hidden) */
    float *out;                  /* (B, out_dim) linear_1 */
    float *dh, *dhd;             /* (B, hidden) backward scratch */
} sm_subnet;

/* ---- heads ------------------------------------------------------------------------ */
typedef struct sm_head {
    int in, dim;
    sm_bufsize cap;              /* the largest batch seen */
    float p;                     /* dropout of the last forward (0: none) */
    float *in_d;                 /* (B, in) input after dropout */
    uint8_t *mask;               /* (B, in) */
    float *h1;                   /* (B, dim) relu(layer_1): the feature */
    float *h2;                   /* (B, dim) relu(layer_2) */
    float *y;                    /* (B) layer_3: the head's output */
    float *din_d;                /* (B, in) backward scratch */
    float *dh1, *dh2, *dpre;     /* (B, dim) backward scratch */
} sm_head;

typedef struct sm_compute {
    sm_dnnl dnnl;
    sm_bert bert;
    sm_subnet sub[2];            /* 0 audio, 1 vision */
    sm_head head[4];             /* SELFMM_FUSION .. SELFMM_VISION */
    sm_bufsize cap;              /* the largest batch seen: capacity of the buffers below */
    int32_t *alen, *vlen;        /* (B) audio / vision lengths used (after clamping) */
    float *fusion_in;            /* (B, H + audio_out + video_out) */
    float *dtext, *daudio, *dvideo, *dfusion_in; /* backward scratch */
    float *dout[4];              /* (B) output gradients stored by the last loss */
    float *labels_w;             /* (B) loss weights scratch */
    int B;                       /* batch of the last forward */
    int train_valid;             /* the last forward was a training forward */
    int have_loss_grads;         /* dout[] holds the gradients of the last loss */
    uint64_t clamped_total;      /* lengths clamped so far (cfg.clamp_lengths) */
    selfmm_timings timings;
} sm_compute;

/* ---- bert.c ---------------------------------------------------------------------- */
selfmm_status sm_bert_forward(const sm_net *n, sm_compute *c, const selfmm_batch *bt, int L,
                              const sm_drop *drop, selfmm_error *err);
/* dcls (B, H): gradient of the last forward's output (the [CLS] rows). */
selfmm_status sm_bert_backward(sm_net *n, sm_compute *c, const float *dcls, selfmm_error *err);
void sm_bert_free(sm_bert *b);
/* GEMM floating-point operations of a BERT forward at (B, L) with P kept rows (the
 * layers' dense maps run on those); the backward is twice. */
double sm_bert_forward_flop(const selfmm_config *cfg, int B, int L, int P);

/* ---- subnet.c -------------------------------------------------------------------- */
/* Each pass in two parts: the LSTM's, which may run on a thread of its own (forward.c;
 * it calls no BLAS, which must not be entered from two threads at once), and the rest
 * (dropout, linear_1), run after (forward) or before (backward) it. The LSTM pass may
 * be split in two halves of the batch, part 0 (samples [0, split)) and part 1 (the
 * rest), each on its own LSTM, so that two threads share it; each sample's result is
 * the same. x (B, T, D), len (B) already checked. */
/* Before a forward's LSTM parts: room for B samples and the split (split == B: one
 * part). */
selfmm_status sm_subnet_prepare(sm_subnet *s, int B, int split, selfmm_error *err);
/* The LSTM part `part` of the forward; nothing for part 1 when the batch is not split. */
selfmm_status sm_subnet_forward_lstm(sm_subnet *s, int part, const sm_subnet_w *w, const float *x,
                                     const int32_t *len, int T, selfmm_error *err);
void sm_subnet_forward_out(sm_subnet *s, const sm_subnet_w *w, float p, uint32_t site, const sm_drop *drop);
/* dout (B, out_dim): gradient of the subnet's output; adds into g. */
void sm_subnet_backward_out(sm_subnet *s, const sm_subnet_w *w, sm_subnet_w *g, const float *dout);
/* The LSTM part `part` of the backward: part 0 adds into g, part 1 into s->g2; then
 * sm_subnet_backward_merge adds s->g2 into g (one thread: g is shared). */
selfmm_status sm_subnet_backward_lstm(sm_subnet *s, int part, const sm_subnet_w *w, sm_subnet_w *g,
                                      selfmm_error *err);
void sm_subnet_backward_merge(sm_subnet *s, sm_subnet_w *g);
/* The time steps the last forward's LSTM parts ran (the longest length), for timings. */
int sm_subnet_last_steps(const sm_subnet *s);
void sm_subnet_free(sm_subnet *s);

/* ---- heads.c ----------------------------------------------------------------------- */
/* From BERT's output and the two subnets' outputs of the same forward. */
selfmm_status sm_heads_forward(const sm_net *n, sm_compute *c, const sm_drop *drop, selfmm_error *err);
/* dy[k] (B) per head, NULL = zero. Fills c->dtext (B, H), c->daudio, c->dvideo with
 * the gradients of the heads' inputs (overwritten) and adds into the heads' weights. */
selfmm_status sm_heads_backward(sm_net *n, sm_compute *c, const float *const dy[4], selfmm_error *err);
void sm_heads_free(sm_compute *c);

#endif
