/* round.h -- the roundings to d decimals that the references apply to results.
 *
 * They differ, and the differences show in the last reported digit:
 * - Python's round(x, d) on a float (MMSA's round(eval_loss, 4)): the correctly
 *   rounded decimal of the exact binary value, ties to even;
 * - round(x, d) on a NumPy float64 scalar (metricsTop.py's accuracies, F1, Corr,
 *   run.py's summary): NumPy's np.round, rint(x * 10^d) / 10^d, where the product
 *   is itself rounded first (round(np.float64(2.675), 2) is 2.68, Python's 2.67);
 * - round(x, d) on a NumPy float32 scalar (Self-MM's MAE, a float32 mean): the
 *   same steps with the product and the quotient rounded to float32, computed in
 *   float64 (a 0-d float32 times a Python float takes NumPy 1.x's float64 loop,
 *   cast into the float32 result).
 * Checked against Python 3.11 / NumPy 1.24 (tests/fixtures/train/metrics_ref.smfx). */
#ifndef SM_CORE_ROUND_H
#define SM_CORE_ROUND_H

/* Python's round(x, d), d >= 0. NaN and infinities pass through. */
double sm_round_py(double x, int d);
/* round(np.float64(x), d), d >= 0. */
double sm_round_np_f64(double x, int d);
/* round(np.float32(x), d), d >= 0. */
float sm_round_np_f32(float x, int d);

#endif
