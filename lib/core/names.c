/* names.c -- the names of the four modalities, kept once: messages, logs and the
 * label files all use them. */
#include "selfmm.h"

SELFMM_API const char *selfmm_modality_name(int k)
{
    static const char *const names[4] = {"fusion", "text", "audio", "vision"};
    return k >= SELFMM_FUSION && k <= SELFMM_VISION ? names[k] : NULL;
}
