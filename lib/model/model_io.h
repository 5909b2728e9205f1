/* model_io.h -- the model's weights through files (model_io.c): the pieces that
 * work on an already-read tensor list, shared with the fuzz targets and info. */
#ifndef SM_MODEL_MODEL_IO_H
#define SM_MODEL_MODEL_IO_H

#include "io/tensors.h"

/* Every parameter of m from a reference state_dict (shapes checked first). */
selfmm_status sm_model_import_tensors(selfmm_model *m, const sm_tensor_list *l, const char *path,
                                      selfmm_error *err);
/* Fill cfg's feature widths from the LSTM weights and check every other shape. */
selfmm_status sm_config_check_tensors(selfmm_config *cfg, const sm_tensor_list *l, const char *path,
                                      selfmm_error *err);
/* Every parameter of m is in l as float32 with its exact shape (the message names
 * the first that is not). */
selfmm_status sm_model_check_params(const selfmm_model *m, const sm_tensor_list *l,
                                    const char *path, selfmm_error *err);
/* Copy every parameter from l (after sm_model_check_params succeeded). */
void sm_model_copy_params(selfmm_model *m, const sm_tensor_list *l);
/* A model from a native model file's tensors and metadata. */
selfmm_status sm_model_from_native(const sm_tensor_list *l, const char *path, selfmm_model **out,
                                   selfmm_error *err);

#endif
