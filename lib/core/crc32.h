/* crc32.h -- CRC-32 as zip and zlib define it (reflected polynomial 0xEDB88320,
 * initial and final XOR 0xFFFFFFFF): the checksum every zip member carries. */
#ifndef SM_CORE_CRC32_H
#define SM_CORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data[0..n) continuing from crc (start with 0); the same value as
 * zlib's crc32(). Carry-less multiplication folding where the build targets a
 * CPU with it (about 10x zlib's table code: checking a 440 MB checkpoint costs
 * tens of milliseconds, not a quarter of a second), zlib's otherwise. */
uint32_t sm_crc32(uint32_t crc, const void *data, size_t n);
/* The CRC of A followed by B from the CRCs of A and B and B's length (zlib's
 * crc32_combine): pieces checked in parallel give the CRC of the whole. */
uint32_t sm_crc32_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

#endif
