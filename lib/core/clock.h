/* clock.h -- a monotonic clock in seconds, for the model's timings and bench. */
#ifndef SM_CORE_CLOCK_H
#define SM_CORE_CLOCK_H

#include <time.h>

static inline double sm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
