/* params.h -- the parameter table: every tensor of the model with its PyTorch name,
 * shape, optimizer group, initialisation and offset into the two arenas.
 *
 * One parameter arena and one gradient arena share this layout (llm.c style); the
 * optimizer is a flat loop over the table, save/load walks it, and sm_weights gives
 * compute code named pointers into either arena. Names are the reference's
 * state_dict names (docs/MODEL.md §2.5), "Model." prefix included. */
#ifndef SM_NN_PARAMS_H
#define SM_NN_PARAMS_H

#include "core/error.h"

#include <stdint.h>

typedef enum sm_init {
    SM_INIT_ZERO,
    SM_INIT_ONE,
    SM_INIT_NORMAL,   /* normal(0, arg): BERT weights (initializer_range) */
    SM_INIT_UNIFORM   /* uniform(-arg, arg): nn.Linear, nn.LSTM defaults */
} sm_init;

#define SM_PARAM_NAME_MAX 96

typedef struct sm_param {
    char name[SM_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[4];
    int64_t numel;
    int64_t offset;              /* in floats, a multiple of 16 (64-byte aligned) */
    selfmm_param_group group;
    sm_init init;
    double init_arg;
} sm_param;

typedef struct sm_param_table {
    sm_param *p;
    int n;
    int64_t total;               /* floats in an arena, padding included */
} sm_param_table;

/* Named pointers into one arena (parameters or gradients). */
typedef struct sm_bert_layer_w {
    float *q_w, *q_b;            /* (H, H), (H) attention.self.query */
    float *k_w, *k_b;            /* (H, H), (H) attention.self.key */
    float *v_w, *v_b;            /* (H, H), (H) attention.self.value */
    float *ao_w, *ao_b;          /* (H, H), (H) attention.output.dense */
    float *ln1_w, *ln1_b;        /* (H), (H)    attention.output.LayerNorm */
    float *i_w, *i_b;            /* (I, H), (I) intermediate.dense */
    float *o_w, *o_b;            /* (H, I), (H) output.dense */
    float *ln2_w, *ln2_b;        /* (H), (H)    output.LayerNorm */
} sm_bert_layer_w;

typedef struct sm_subnet_w {
    float *w_ih;                 /* (4h, D) rnn.weight_ih_l0, gates i, f, g, o */
    float *w_hh;                 /* (4h, h) rnn.weight_hh_l0 */
    float *b_ih, *b_hh;          /* (4h) each; only their sum enters the math */
    float *lin_w, *lin_b;        /* (out, h), (out) linear_1 */
} sm_subnet_w;

typedef struct sm_head_w {
    float *w1, *b1;              /* (d, in), (d) post_<m>_layer_1 */
    float *w2, *b2;              /* (d, d), (d)  post_<m>_layer_2 */
    float *w3, *b3;              /* (1, d), (1)  post_<m>_layer_3 */
} sm_head_w;

typedef struct sm_weights {
    float *word_emb;             /* (V, H) */
    float *pos_emb;              /* (P, H) */
    float *type_emb;             /* (T, H) */
    float *emb_ln_w, *emb_ln_b;  /* (H) */
    sm_bert_layer_w *layer;      /* [num_hidden_layers] */
    float *pooler_w, *pooler_b;  /* (H, H), (H): kept for export, never used */
    sm_subnet_w audio, video;
    sm_head_w head[4];           /* SELFMM_FUSION, SELFMM_TEXT, SELFMM_AUDIO, SELFMM_VISION */
} sm_weights;

/* Build the table for cfg (which must be valid). */
selfmm_status sm_params_build(const selfmm_config *cfg, sm_param_table *t, selfmm_error *err);
void sm_params_free(sm_param_table *t);
/* Index of a name, or -1. */
int sm_params_find(const sm_param_table *t, const char *name);
/* Fill named pointers into arena (params or grads) for cfg's table. w->layer is
 * allocated; free it with sm_weights_free. */
selfmm_status sm_weights_bind(const selfmm_config *cfg, const sm_param_table *t, float *arena,
                              sm_weights *w, selfmm_error *err);
void sm_weights_free(sm_weights *w);
/* Initialise the tensors of arena from seed as PyTorch initialises a fresh model:
 * every one, or with skip_bert all but BERT's embeddings and layers, the tensors a
 * pretrained BERT file always supplies (selfmm_model_load_bert; the pooler, which
 * such files may lack, is initialised). Each tensor's values depend only on (seed,
 * its index), so skipping some changes no other. */
void sm_params_init(const sm_param_table *t, float *arena, uint64_t seed, int skip_bert);
/* Zero the padding between (and after) the tensors of arena, so that arena-wide
 * loops (the optimizer) see zeros there; the tensors themselves are not touched. */
void sm_params_zero_padding(const sm_param_table *t, float *arena);

#endif
