/* testfile.h -- small file helpers for tests: whole-file reads and writes, a
 * scratch directory under the build tree, and a deterministic byte mutator for
 * robustness loops. */
#ifndef SELFMM_TEST_TESTFILE_H
#define SELFMM_TEST_TESTFILE_H

#include <stddef.h>
#include <stdint.h>

/* The whole file in a malloc'd buffer, NUL-terminated after its size bytes (NULL
 * and a "# " line on failure). */
uint8_t *tf_read(const char *path, size_t *size); /* size may be NULL */
/* Write a buffer; 0 on success. */
int tf_write(const char *path, const void *data, size_t size);
/* A fresh directory for this test binary's outputs: $SELFMM_BUILD/tmp/<name>. */
const char *tf_scratch(const char *name);
/* 1 when both files exist and hold the same bytes. */
int tf_same(const char *a, const char *b);
/* xorshift64: deterministic pseudo-random numbers for mutation loops. */
uint64_t tf_rand(uint64_t *state);

#endif
