/* model.h -- the selfmm_model handle: the network (nn/net.h: config, parameter
 * table, the two arenas, named weights and gradients, dropout step, compute state),
 * the message of the last failed call, and the metadata strings saved with it. */
#ifndef SM_MODEL_MODEL_H
#define SM_MODEL_MODEL_H

#include "nn/net.h"

/* A string kept with the model and persisted in the native model file's metadata
 * (the tokenizer's vocabulary, feature normalisation, ...): whoever owns a kind of
 * data picks a key prefix ("tokenizer.", "norm.") and stores text. */
typedef struct sm_meta {
    char *key;
    char *value;
} sm_meta;

struct selfmm_model {
    sm_net net;
    selfmm_error err;            /* last error, for selfmm_model_errmsg */
    sm_meta *meta;               /* (n_meta) extra metadata, saved with the model */
    int n_meta;
};

/* selfmm_model_create; init as sm_net_init's (SM_NET_INIT_NONE: the weights are left
 * unset, for callers that overwrite every one of them next, as loading a model file). */
selfmm_status sm_model_create(const selfmm_config *cfg, int init, selfmm_model **out,
                              selfmm_error *err);

/* Set (replace) or, with value == NULL, remove a metadata entry. */
selfmm_status sm_model_meta_set(selfmm_model *m, const char *key, const char *value);
/* The value of a key, or NULL. Owned by the model. */
const char *sm_model_meta_get(const selfmm_model *m, const char *key);

#endif
