/* round.c -- see round.h. */
#include "core/round.h"

#include "selfmm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

double sm_round_py(double x, int d)
{
    /* CPython rounds with a correctly rounded dtoa; glibc's printf converts the
     * exact binary value with ties to even too, and strtod reads the decimal back
     * correctly rounded. 400 bytes hold any double printed with <= 30 decimals. */
    if (!isfinite(x) || d < 0) return x;
    char buf[400];
    snprintf(buf, sizeof buf, "%.*f", d > 30 ? 30 : d, x);
    return strtod(buf, NULL);
}

/* numpy/core/src/multiarray/calculation.c power_of_ten: exact for d <= 22. */
static double power_of_ten(int d)
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    if (d < 9) return p10[d];
    double r = 1e9;
    while (d-- > 9) r *= 10.0;
    return r;
}

double sm_round_np_f64(double x, int d)
{
    if (d < 0) return x;
    const double f = power_of_ten(d);
    return rint(x * f) / f; /* PyArray_Round: multiply, rint, true_divide */
}

float sm_round_np_f32(float x, int d)
{
    if (d < 0) return x;
    const double f = power_of_ten(d);
    const float y = (float)((double)x * f); /* float64 loop, cast into the float32 out */
    return (float)((double)rintf(y) / f);
}

SELFMM_API double selfmm_round(double x, int decimals)
{
    return sm_round_py(x, decimals);
}
