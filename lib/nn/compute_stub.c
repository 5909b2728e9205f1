/* compute_stub.c -- placeholder until the forward/backward code lands: the model
 * handle owns no compute state yet. Replaced by nn/forward.c. */
#include "nn/model.h"

void sm_compute_free(struct sm_compute *c) { (void)c; }
