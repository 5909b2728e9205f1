/* alloc.h -- allocation with overflow checks and 64-byte alignment. */
#ifndef SM_CORE_ALLOC_H
#define SM_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* n * size bytes aligned to 64, or NULL on overflow / failure. Free with sm_free. */
void *sm_alloc(size_t n, size_t size);
/* The same, zero-filled. */
void *sm_calloc(size_t n, size_t size);
void sm_free(void *p);
/* a * b without overflow into *out; 0 on overflow. */
int sm_mul_ok(size_t a, size_t b, size_t *out);
/* strdup that returns NULL for NULL. */
char *sm_strdup(const char *s);

#endif
