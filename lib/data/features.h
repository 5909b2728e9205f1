/* features.h -- one clip's audio or vision features from a file the user wrote:
 * a NumPy .npy of shape (T, D), float32 or float64 (either byte order, C or
 * Fortran order), or a numeric CSV with one row of D values per time step.
 *
 * CSV rules (decided here, documented in selfmm.h): comma-separated, RFC 4180
 * quoting allowed, blank lines skipped; the first row is a header when none of its
 * cells is a number, a row of numbers when all are, and an error when it mixes
 * both. Numbers are C-locale decimals (strtod syntax), spaces around them allowed;
 * an empty cell, text, or a row of another width is an error.
 *
 * Every value must be finite in float32: NaN, infinities and float64 values beyond
 * float32's range are refused (the first is named, with the count), as are files
 * with no time step or no feature. Messages start with the path and name the line
 * and column (CSV) or the step and feature (.npy). */
#ifndef SM_DATA_FEATURES_H
#define SM_DATA_FEATURES_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* Read path into a malloc'd (T, D) row-major array. The format is told by the
 * content (the .npy magic), not by the name. */
selfmm_status sm_features_read(const char *path, float **x, int *T, int *D, selfmm_error *err);
/* The same from bytes in memory; path names them in messages. */
selfmm_status sm_features_parse(const uint8_t *data, size_t size, const char *path, float **x,
                                int *T, int *D, selfmm_error *err);

#endif
