/* diag.h — error messages and logging shared by every layer: a fallible function returns a
 * negative vkti_status and leaves a human message here; logging goes through a callback. */
#ifndef VKTI_BASE_DIAG_H
#define VKTI_BASE_DIAG_H

#include <stdarg.h>
#include "vkti/vkti.h"

#define VKTI_MSG_MAX 2048

typedef struct vkti_diag {
    char msg[VKTI_MSG_MAX];     /* the last failure's message */
    vkti_log_fn log;
    void *log_user;
    vkti_log_level level;
} vkti_diag;

#if defined(__GNUC__)
#define VKTI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VKTI_PRINTF(a, b)
#endif

/* Records a message and returns status (so: return vkti_fail(d, VKTI_E_FORMAT, "...")). */
int vkti_fail(vkti_diag *d, int status, const char *fmt, ...) VKTI_PRINTF(3, 4);
/* Prefixes the existing message with more context ("loading unet: " + old message). */
int vkti_fail_wrap(vkti_diag *d, int status, const char *fmt, ...) VKTI_PRINTF(3, 4);
void vkti_log(vkti_diag *d, vkti_log_level level, const char *fmt, ...) VKTI_PRINTF(3, 4);
void vkti_logv(vkti_diag *d, vkti_log_level level, const char *fmt, va_list ap);

#endif
