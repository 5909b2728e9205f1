/* dtype.h -- element types of the arrays and tensors the readers meet (NumPy
 * arrays in pickles and .npz, torch storages, safetensors), and their conversion
 * to float32 / float64. Data in files is little-endian unless a NumPy dtype says
 * '>', which the converters handle with `swap`. */
#ifndef SM_IO_DTYPE_H
#define SM_IO_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum sm_dtype {
    SM_DT_F32, SM_DT_F64, SM_DT_F16, SM_DT_BF16,
    SM_DT_I64, SM_DT_I32, SM_DT_I16, SM_DT_I8,
    SM_DT_U64, SM_DT_U32, SM_DT_U16, SM_DT_U8,
    SM_DT_BOOL,
    SM_DT_UNICODE,  /* NumPy '<U': UCS-4, itemsize = 4 * chars */
    SM_DT_OBJECT,   /* NumPy 'O': the items are pickled values */
    SM_DT_COUNT
} sm_dtype;

/* "float32", "int64", "unicode", "object", ... */
const char *sm_dtype_name(sm_dtype dt);
/* Bytes per element (0 for SM_DT_UNICODE / SM_DT_OBJECT, sized per array). */
int sm_dtype_size(sm_dtype dt);
/* 1 for the types that convert to float (f32, f64, f16, bf16, ints, bool). */
int sm_dtype_is_numeric(sm_dtype dt);
int sm_dtype_is_float(sm_dtype dt);

/* n elements at src (any alignment) to float32 / float64, round to nearest. The
 * type must be numeric. swap: the data is big-endian. */
void sm_dtype_to_f32(sm_dtype dt, int swap, const void *src, size_t n, float *dst);
void sm_dtype_to_f64(sm_dtype dt, int swap, const void *src, size_t n, double *dst);

/* A NumPy type string ("<f4", "f8", "|u1", "<U7", "O8", "|b1"): element type,
 * bytes per element (unicode: 4 per character) and byte order ('<', '>', '|',
 * '=' when absent). Returns 0, or -1 for anything else (structured types,
 * datetimes, complex). */
int sm_dtype_parse_numpy(const char *s, size_t len, sm_dtype *dt, int *itemsize, char *byteorder);
/* The NumPy type string of a type ("<f4", "|b1", ...; unicode needs chars). */
void sm_dtype_numpy_str(sm_dtype dt, int chars, char *out, size_t cap);

/* IEEE half and bfloat16 to float (exact). */
float sm_f16_to_f32(uint16_t h);
float sm_bf16_to_f32(uint16_t h);

#endif
