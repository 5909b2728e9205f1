/* loss.c -- the reference trainer's weighted L1 (docs/MODEL.md §3.3). */
#include "nn/ops.h"

#include <math.h>
#include <string.h>

void sm_weighted_l1_forward(double *loss, const float *pred, const float *y, const float *w,
                            int B)
{
    sm_weighted_l1_forward_d(loss, pred, y, w, B, B);
}

void sm_weighted_l1_forward_d(double *loss, const float *pred, const float *y, const float *w,
                              int B, int denom)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        float d = pred[b] - y[b];
        float e = (w ? w[b] : 1.0f) * (d < 0.0f ? -d : d);
        s += e;
    }
    *loss = s / denom;
}

void sm_weighted_l1_backward(float *dpred, float dloss, const float *pred, const float *y,
                             const float *w, int B)
{
    sm_weighted_l1_backward_d(dpred, dloss, pred, y, w, B, B);
}

void sm_weighted_l1_backward_d(float *dpred, float dloss, const float *pred, const float *y,
                               const float *w, int B, int denom)
{
    /* loss = mean(w * |pred - y|): d/dpred = dloss / B * w * sign(pred - y) */
    float k = dloss / (float)denom;
    for (int b = 0; b < B; b++) {
        float d = pred[b] - y[b];
        float sg = d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f;
        dpred[b] += k * (w ? w[b] : 1.0f) * sg;
    }
}

void sm_selfmm_loss_forward(double part[4], float *const *dpred, const float *const pred[4],
                            const float *const y[4], float *w, int B, int denom)
{
    const float *yf = y[0];
    for (int k = 0; k < 4; k++) {
        /* w = 1 for fusion, tanh(|y_m - y_fusion|) for the unimodal heads (constants) */
        const float *wk = NULL;
        if (k != 0) {
            for (int b = 0; b < B; b++) w[b] = tanhf(fabsf(y[k][b] - yf[b]));
            wk = w;
        }
        sm_weighted_l1_forward_d(&part[k], pred[k], y[k], wk, B, denom);
        if (dpred) {
            memset(dpred[k], 0, (size_t)B * sizeof(float));
            sm_weighted_l1_backward_d(dpred[k], 1.0f, pred[k], y[k], wk, B, denom);
        }
    }
}
