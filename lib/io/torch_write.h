/* torch_write.h -- writing a float32 state_dict in torch's zip format (.pth). */
#ifndef SM_IO_TORCH_WRITE_H
#define SM_IO_TORCH_WRITE_H

#include "io/safetensors.h"

/* Tensors in order (the state_dict's order), atomically. */
selfmm_status sm_write_torch_zip(const char *path, const sm_st_out *t, int n, selfmm_error *err);

#endif
