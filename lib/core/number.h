/* number.h -- numbers written as text in files and arguments (label.csv, feature
 * CSVs, --set values, model metadata), read one way everywhere: decimal, as
 * Python's float() and pandas read them, never C's wider strtod syntax (hex
 * "0x10", hex floats "0x1p4", "nan(...)"), and independent of the program's
 * locale. */
#ifndef SM_CORE_NUMBER_H
#define SM_CORE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* What a piece of text holds as a number. */
typedef enum sm_num {
    SM_NUM_OK,      /* a finite number */
    SM_NUM_EMPTY,   /* nothing but spaces and tabs */
    SM_NUM_TEXT,    /* not a decimal number */
    SM_NUM_NAN,     /* nan (any case, signed) */
    SM_NUM_INF,     /* inf / infinity (any case, signed), or a decimal beyond double's range */
    SM_NUM_RANGE    /* finite, but beyond float32's range (sm_csv_float only) */
} sm_num;

/* s[0..n) as a number: spaces and tabs around it, an optional sign, then digits
 * with an optional point and exponent ("12", "-.5", "1.", "3e-4", "016"), or the
 * words nan, inf, infinity in any case. Not accepted: hex, underscores (Python's
 * float() alone takes "1_0"; pandas and JSON do not), anything else. *out is set
 * for SM_NUM_OK, SM_NUM_NAN and SM_NUM_INF (the value, the sign kept), correctly
 * rounded. */
sm_num sm_parse_decimal(const char *s, size_t n, double *out);
/* A NUL-terminated string of decimal digits only (no sign, no space) that fits in
 * 64 bits; 0 otherwise. */
int sm_parse_u64(const char *s, uint64_t *out);

#endif
