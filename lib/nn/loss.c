/* loss.c -- the reference trainer's weighted L1 (SPEC 2.2c). */
#include "nn/ops.h"

void sm_weighted_l1_forward(double *loss, const float *pred, const float *y, const float *w,
                            int B)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        float d = pred[b] - y[b];
        float e = (w ? w[b] : 1.0f) * (d < 0.0f ? -d : d);
        s += e;
    }
    *loss = s / B;
}

void sm_weighted_l1_backward(float *dpred, float dloss, const float *pred, const float *y,
                             const float *w, int B)
{
    /* loss = mean(w * |pred - y|): d/dpred = dloss / B * w * sign(pred - y) */
    float k = dloss / (float)B;
    for (int b = 0; b < B; b++) {
        float d = pred[b] - y[b];
        float sg = d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f;
        dpred[b] += k * (w ? w[b] : 1.0f) * sg;
    }
}
