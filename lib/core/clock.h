/* clock.h -- a monotonic clock in seconds, for the model's timings and bench, and
 * the median of repeated timings. */
#ifndef SM_CORE_CLOCK_H
#define SM_CORE_CLOCK_H

#include <time.h>

static inline double sm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The median of v[0..n), n >= 1 (v is sorted in place): the middle value, or the
 * mean of the two middle ones. */
double sm_median(double *v, int n);

#endif
