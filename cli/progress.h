/* progress.h -- what `train` shows while it runs: a progress bar on a terminal
 * (batch, loss, rate, ETA), otherwise one line per epoch. */
#ifndef SELFMM_CLI_PROGRESS_H
#define SELFMM_CLI_PROGRESS_H

#include "selfmm.h"

#include <stdio.h>

typedef struct progress {
    FILE *out;          /* stderr */
    int tty;            /* draw a bar (1) or print epoch lines (0) */
    int quiet;          /* print nothing */
    int bar_shown;      /* a bar is on the current line */
    double epoch_start; /* elapsed_s at the epoch's first batch */
    int last_epoch;
} progress;

void progress_init(progress *p, int quiet);
/* A selfmm_fit_callback: never asks to stop (user is a progress *). */
int progress_event(const selfmm_fit_event *ev, void *user);
/* Clear a bar left on the line. */
void progress_done(progress *p);

#endif
