/* lr_schedule.c — learning-rate schedules (see lr_schedule.h).
 *
 * Sources read (for facts): diffusers 58eb52c optimization.py (the lr_lambda of each schedule;
 * get_scheduler passes num_cycles only to cosine_with_restarts, so "cosine" is half a cosine);
 * AUTOMATIC1111 stable-diffusion-webui modules/textual_inversion/learn_schedule.py and
 * textual_inversion.py (train_embedding applies scheduler.apply(optimizer, embedding.step) before
 * each update). The factors below are evaluated in the same order as the Python, in doubles. */
#include "train/lr_schedule.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double vkti_lr_scale_factor(int batch_size, int grad_accum)
{
    /* args.learning_rate * args.gradient_accumulation_steps * args.train_batch_size * num_processes */
    return (double)grad_accum * (double)batch_size;
}

/* Trims spaces around [*b, *e). */
static void trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static int parse_rate(vkti_diag *d, const char *b, const char *e, int piece, double *out)
{
    trim(&b, &e);
    char buf[64];
    size_t n = (size_t)(e - b);
    if (n == 0)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d has no rate", piece);
    if (n >= sizeof buf)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d: the rate is too long", piece);
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!(isdigit((unsigned char)c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
            return vkti_fail(d, VKTI_E_INVALID,
                             "learning-rate schedule: piece %d: '%.*s' is not a number (write rates like 0.005 or 5e-3)",
                             piece, (int)n, b);
    }
    memcpy(buf, b, n);
    buf[n] = 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n || !isfinite(v) || errno == ERANGE)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d: '%s' is not a number", piece, buf);
    if (!(v > 0))
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d: the rate %s must be above 0", piece,
                         buf);
    *out = v;
    return VKTI_OK;
}

/* A step: optional '+', decimal digits; or exactly "-1". */
static int parse_step(vkti_diag *d, const char *b, const char *e, int piece, int64_t *out)
{
    trim(&b, &e);
    size_t n = (size_t)(e - b);
    if (n == 2 && b[0] == '-' && b[1] == '1') {
        *out = -1;
        return VKTI_OK;
    }
    const char *p = b;
    if (p < e && *p == '+')
        p++;
    if (p == e)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d has no step after ':'", piece);
    int64_t v = 0;
    for (; p < e; p++) {
        if (!isdigit((unsigned char)*p)) {
            if (*p == '-')
                return vkti_fail(d, VKTI_E_INVALID,
                                 "learning-rate schedule: piece %d: step '%.*s' is negative (only -1, \"to the end\", "
                                 "is allowed)",
                                 piece, (int)n, b);
            return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d: step '%.*s' is not a whole number",
                             piece, (int)n, b);
        }
        if (v > (INT64_MAX - 9) / 10)
            return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d: step '%.*s' is too large", piece,
                             (int)n, b);
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return VKTI_OK;
}

int vkti_lr_piecewise_parse(vkti_diag *d, const char *text, int64_t max_steps, vkti_lr_piece *pieces, int cap,
                            int *count, int64_t *end_step)
{
    *count = 0;
    *end_step = max_steps;
    if (max_steps < 1)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: the run has no steps");
    const char *p = text, *end = text + strlen(text);
    {
        const char *b = p, *e = end;
        trim(&b, &e);
        if (b == e)
            return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule is empty (e.g. \"0.005:100, 1e-3:1000, 1e-5\")");
    }
    int n = 0, final_seen = 0;
    int64_t prev = 0;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *pe = comma ? comma : end;
        int piece = n + 1;
        if (final_seen)
            return vkti_fail(d, VKTI_E_INVALID,
                             "learning-rate schedule: piece %d comes after a rate that holds to the end; that one "
                             "must be last",
                             piece);
        if (n == cap)
            return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule has more than %d pieces", cap);
        {
            const char *b = p, *e = pe;
            trim(&b, &e);
            if (b == e) {
                if (!comma && n > 0)
                    return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule ends with ','; remove it or add a rate");
                return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d is empty", piece);
            }
        }
        const char *colon = memchr(p, ':', (size_t)(pe - p));
        double rate;
        int64_t step = -1;
        int rc;
        if (colon) {
            if (memchr(colon + 1, ':', (size_t)(pe - colon - 1)))
                return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: piece %d has more than one ':'", piece);
            if ((rc = parse_rate(d, p, colon, piece, &rate)) || (rc = parse_step(d, colon + 1, pe, piece, &step)))
                return rc;
        } else if ((rc = parse_rate(d, p, pe, piece, &rate))) {
            return rc;
        }
        if (step == -1) {
            final_seen = 1;
            step = max_steps;
        } else {
            if (step == 0)
                return vkti_fail(d, VKTI_E_INVALID,
                                 "learning-rate schedule: piece %d ends at step 0, so it would never be used", piece);
            if (step <= prev)
                return vkti_fail(d, VKTI_E_INVALID,
                                 "learning-rate schedule: piece %d ends at step %lld, not after the previous piece's "
                                 "%lld; steps must increase",
                                 piece, (long long)step, (long long)prev);
            prev = step;
        }
        pieces[n].rate = rate;
        pieces[n].end_step = step < max_steps ? step : max_steps;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = n;
    *end_step = pieces[n - 1].end_step;
    return VKTI_OK;
}

int vkti_lr_schedule_init(vkti_diag *d, vkti_lr_schedule *s, vkti_lr_kind kind, double base_lr,
                          const char *piecewise, int64_t warmup_steps, int64_t total_steps, double scale)
{
    memset(s, 0, sizeof *s);
    if (total_steps < 1)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: the run has no steps");
    if (warmup_steps < 0)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: warmup steps %lld is negative",
                         (long long)warmup_steps);
    if (!(scale > 0) || !isfinite(scale))
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: scale factor %g must be above 0", scale);
    s->kind = kind;
    s->warmup_steps = warmup_steps;
    s->total_steps = total_steps;
    s->end_step = total_steps;
    if (kind == VKTI_LR_PIECEWISE) {
        int rc = vkti_lr_piecewise_parse(d, piecewise ? piecewise : "", total_steps, s->pieces, VKTI_LR_MAX_PIECES,
                                         &s->piece_count, &s->end_step);
        if (rc)
            return rc;
        for (int i = 0; i < s->piece_count; i++)
            s->pieces[i].rate *= scale;
        return VKTI_OK;
    }
    if (kind != VKTI_LR_CONSTANT && kind != VKTI_LR_CONSTANT_WITH_WARMUP && kind != VKTI_LR_LINEAR &&
        kind != VKTI_LR_COSINE)
        return vkti_fail(d, VKTI_E_INVALID, "learning-rate schedule: unknown kind %d", (int)kind);
    if (!(base_lr > 0) || !isfinite(base_lr))
        return vkti_fail(d, VKTI_E_INVALID, "learning rate %g must be a number above 0", base_lr);
    s->base_lr = base_lr * scale;
    return VKTI_OK;
}

int vkti_lr_schedule_from_config(vkti_diag *d, vkti_lr_schedule *s, const vkti_train_config *cfg)
{
    double scale = cfg->scale_lr ? vkti_lr_scale_factor(cfg->batch_size, cfg->grad_accum) : 1.0;
    return vkti_lr_schedule_init(d, s, cfg->lr_schedule, cfg->learning_rate, cfg->lr_piecewise,
                                 cfg->lr_warmup_steps, cfg->steps, scale);
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* diffusers' lr_lambda(current_step) for each schedule */
static double lambda(const vkti_lr_schedule *s, int64_t k)
{
    const int64_t w = s->warmup_steps, n = s->total_steps;
    switch (s->kind) {
    case VKTI_LR_CONSTANT:
        return 1.0;
    case VKTI_LR_CONSTANT_WITH_WARMUP:
        if (k < w)
            return (double)k / (double)max64(1, w);
        return 1.0;
    case VKTI_LR_LINEAR: {
        if (k < w)
            return 1.0 * (double)k / (double)max64(1, w); /* f_max * float(step) / float(max(1, W)) */
        double progress = (double)(n - k) / (double)max64(1, n - w);
        return progress > 0.0 ? progress : 0.0; /* f_min + (f_max - f_min) * max(0.0, progress) */
    }
    case VKTI_LR_COSINE: {
        if (k < w)
            return (double)k / (double)max64(1, w);
        double progress = (double)(k - w) / (double)max64(1, n - w);
        const double pi = 3.141592653589793; /* math.pi */
        double x = pi * 0.5;                 /* math.pi * float(num_cycles) * 2.0 * progress */
        x = x * 2.0;
        x = x * progress;
        double f = 0.5 * (1.0 + cos(x));
        return f > 0.0 ? f : 0.0;
    }
    default:
        return 1.0;
    }
}

double vkti_lr_at(const vkti_lr_schedule *s, int64_t k)
{
    if (s->kind == VKTI_LR_PIECEWISE) {
        for (int i = 0; i < s->piece_count; i++)
            if (k < s->pieces[i].end_step)
                return s->pieces[i].rate;
        return s->piece_count ? s->pieces[s->piece_count - 1].rate : 0.0;
    }
    return s->base_lr * lambda(s, k); /* LambdaLR: base_lr * lmbda(last_epoch) */
}
