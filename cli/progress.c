/* progress.c -- see progress.h. */
#include "progress.h"

#include <string.h>
#include <unistd.h>

void progress_init(progress *p, int quiet)
{
    memset(p, 0, sizeof *p);
    p->out = stderr;
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
}

void progress_done(progress *p)
{
    if (p->bar_shown) fputs("\r\033[K", p->out);
    p->bar_shown = 0;
    fflush(p->out);
}

static void fmt_time(char *buf, size_t cap, double s)
{
    if (s < 0 || s > 1e7) s = 0;
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%d:%02d", t / 60, t % 60);
}

static void bar(progress *p, const selfmm_fit_event *ev)
{
    if (ev->epoch != p->last_epoch) {
        p->last_epoch = ev->epoch;
        p->epoch_start = ev->elapsed_s;
    }
    const int width = 24;
    int done = ev->num_batches ? ev->batch * width / ev->num_batches : width;
    char fill[32];
    for (int i = 0; i < width; i++) fill[i] = i < done ? '=' : (i == done ? '>' : ' ');
    fill[width] = '\0';
    double dt = ev->elapsed_s - p->epoch_start;
    double rate = dt > 0 ? ev->batch / dt : 0;
    char eta[16];
    fmt_time(eta, sizeof eta, rate > 0 ? (ev->num_batches - ev->batch) / rate : 0);
    fprintf(p->out, "\r\033[Kseed %lld epoch %d [%s] %d/%d loss %.4f %.1f batch/s ETA %s",
            (long long)ev->seed, ev->epoch, fill, ev->batch, ev->num_batches, ev->loss.total, rate, eta);
    fflush(p->out);
    p->bar_shown = 1;
}

static void epoch_line(progress *p, const selfmm_fit_event *ev)
{
    progress_done(p);
    double acc = 0, mae = 0;
    const char *acc_name = ev->valid_metrics->count ? ev->valid_metrics->name[0] : "";
    if (ev->valid_metrics->count) acc = ev->valid_metrics->value[0];
    selfmm_metrics_get(ev->valid_metrics, "MAE", &mae, NULL);
    char t[16];
    fmt_time(t, sizeof t, ev->elapsed_s);
    fprintf(p->out,
            "seed %lld epoch %d: train loss %.4f | valid Loss %.4f %s %.4f MAE %.4f | best epoch %d%s "
            "[epoch %.1f s, %s]\n",
            (long long)ev->seed, ev->epoch, ev->train_loss, ev->valid_loss, acc_name, acc, mae,
            ev->best_epoch, ev->improved ? " *" : "", ev->epoch_s, t);
    fflush(p->out);
}

int progress_event(const selfmm_fit_event *ev, void *user)
{
    progress *p = user;
    if (p->quiet) return 0;
    if (ev->kind == SELFMM_EVENT_BATCH && p->tty) bar(p, ev);
    else if (ev->kind == SELFMM_EVENT_EPOCH) epoch_line(p, ev);
    return 0;
}
