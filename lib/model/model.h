/* model.h -- the selfmm_model handle: config, parameter table, the two arenas and
 * named pointers into them. Compute state (activations, oneDNN primitives) hangs
 * off `compute`, owned by the forward/backward code. */
#ifndef SM_MODEL_MODEL_H
#define SM_MODEL_MODEL_H

#include "nn/params.h"

struct sm_compute; /* defined by the forward/backward code */

/* A string kept with the model and persisted in the native model file's metadata
 * (the tokenizer's vocabulary, feature normalisation, ...): whoever owns a kind of
 * data picks a key prefix ("tokenizer.", "norm.") and stores text. */
typedef struct sm_meta {
    char *key;
    char *value;
} sm_meta;

struct selfmm_model {
    selfmm_config cfg;
    selfmm_error err;            /* last error, for selfmm_model_errmsg */
    sm_param_table table;
    float *params;               /* (table.total) parameter arena */
    float *grads;                /* (table.total) gradient arena, same layout */
    sm_weights w;                /* named pointers into params */
    sm_weights g;                /* named pointers into grads */
    uint64_t step;               /* dropout step counter */
    struct sm_compute *compute;  /* NULL until the first forward */
    sm_meta *meta;               /* (n_meta) extra metadata, saved with the model */
    int n_meta;
};

/* selfmm_model_create; with init = 0 the weights are left unset (only the padding
 * between them is zeroed), for callers that overwrite every one of them next
 * (loading a model file: initialising, or even clearing, 100M parameters only to
 * overwrite them is wasted time). */
selfmm_status sm_model_create(const selfmm_config *cfg, int init, selfmm_model **out,
                              selfmm_error *err);

/* Set (replace) or, with value == NULL, remove a metadata entry. */
selfmm_status sm_model_meta_set(selfmm_model *m, const char *key, const char *value);
/* The value of a key, or NULL. Owned by the model. */
const char *sm_model_meta_get(const selfmm_model *m, const char *key);

/* Frees compute state; defined next to the forward code. */
void sm_compute_free(struct sm_compute *c);

#endif
