/* hash.h -- FNV-1a, for the small in-memory hash tables (vocabulary, clip ids):
 * short keys, no adversary worth more; nothing computed depends on it. */
#ifndef SM_CORE_HASH_H
#define SM_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SM_FNV_OFFSET 0xcbf29ce484222325ULL

/* Continue hash h over n bytes (start with SM_FNV_OFFSET). */
static inline uint64_t sm_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

#endif
