/* common.h -- the CHECK() macro the examples use: on failure print file, line, the
 * status string and the detailed message, and exit. (A program may exit; the
 * library never does.) */
#ifndef SELFMM_EXAMPLES_COMMON_H
#define SELFMM_EXAMPLES_COMMON_H

#include <selfmm.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call, message)                                                         \
    do {                                                                             \
        selfmm_status check_st_ = (call);                                            \
        if (check_st_ != SELFMM_OK) {                                                \
            fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, __LINE__, #call,        \
                    selfmm_strerror(check_st_), (message));                          \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

#endif
