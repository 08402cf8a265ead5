/* diag.c — failure messages and the log callback (see diag.h). */
#include "base/diag.h"

#include <stdio.h>
#include <string.h>

int vkti_fail(vkti_diag *d, int status, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

int vkti_fail_wrap(vkti_diag *d, int status, const char *fmt, ...)
{
    if (d) {
        char prefix[512], old[VKTI_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, d->msg, sizeof old);
        size_t pl = strlen(prefix), ol = strlen(old);
        if (pl > sizeof d->msg - 3)
            pl = sizeof d->msg - 3;
        if (pl + 2 + ol > sizeof d->msg - 1)
            ol = sizeof d->msg - 1 - pl - 2;
        memcpy(d->msg, prefix, pl);
        memcpy(d->msg + pl, ": ", 2);
        memcpy(d->msg + pl + 2, old, ol);
        d->msg[pl + 2 + ol] = 0;
    }
    return status;
}

void vkti_logv(vkti_diag *d, vkti_log_level level, const char *fmt, va_list ap)
{
    if (!d || !d->log || level > d->level)
        return;
    char buf[VKTI_MSG_MAX];
    vsnprintf(buf, sizeof buf, fmt, ap);
    d->log(d->log_user, level, buf);
}

void vkti_log(vkti_diag *d, vkti_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkti_logv(d, level, fmt, ap);
    va_end(ap);
}
