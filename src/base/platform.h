/* platform.h — the one place that talks to the operating system: monotonic and wall clocks, host
 * name, files (read whole, map, atomic replace, append), directories (create, list, remove),
 * environment, home and cache locations, terminal width, Ctrl-C.
 * platform.c has a POSIX half and a Win32 half; nothing else includes unistd.h or windows.h. */
#ifndef VKTI_BASE_PLATFORM_H
#define VKTI_BASE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

/* Seconds from an arbitrary origin, monotonic. */
double vkti_now(void);
/* Seconds since 1970-01-01 00:00 UTC (wall clock; for time stamps in logs, never for intervals). */
double vkti_wall_time(void);
/* This machine's host name ("localhost" if the system will not say); always NUL-terminated. */
void vkti_hostname(char *out, size_t cap);

/* Reads a whole file into a new buffer (plus a terminating NUL not counted in *size).
 * Refuses files larger than max_bytes. */
int vkti_file_read(vkti_diag *d, const char *path, size_t max_bytes, uint8_t **data, size_t *size);

/* A read-only mapping of a whole file (falls back to reading it). */
typedef struct vkti_mapped_file {
    const uint8_t *data;
    size_t size;
    void *impl_; /* platform handle */
    int mapped_;
} vkti_mapped_file;
int vkti_file_map(vkti_diag *d, const char *path, vkti_mapped_file *out);
void vkti_file_unmap(vkti_mapped_file *f);

/* Writes data to path atomically: a temporary file beside it, flushed to disk, then renamed
 * over path. On failure the old file (if any) is untouched and no temporary is left. */
int vkti_file_write_atomic(vkti_diag *d, const char *path, const void *data, size_t size);

/* A file opened for appending (metrics logs): every vkti_file_append hands its bytes to the
 * operating system before it returns, so a crash of the process loses nothing already appended. */
typedef struct vkti_file vkti_file;
int vkti_file_open_append(vkti_diag *d, const char *path, vkti_file **out);
int vkti_file_append(vkti_diag *d, vkti_file *f, const void *data, size_t size);
/* Also asks the operating system to put what was appended on the disk (fsync). */
int vkti_file_sync(vkti_diag *d, vkti_file *f);
void vkti_file_close(vkti_file *f);

int vkti_file_exists(const char *path);
/* 1 if paths a and b both exist and name the same file (through links or other spellings). */
int vkti_file_same(const char *a, const char *b);
int vkti_dir_exists(const char *path);
/* Creates a directory and its parents (like mkdir -p). */
int vkti_mkdir_p(vkti_diag *d, const char *path);
int vkti_file_remove(const char *path);
/* Removes an empty directory. */
int vkti_dir_remove(const char *path);

/* An environment variable, or NULL when unset or empty. */
const char *vkti_env(const char *name);
/* The user's home directory ($HOME; %USERPROFILE% on Windows). */
int vkti_home_dir(char *out, size_t cap);

/* Names of the entries of a directory (not "." or ".."), sorted bytewise; *names is one
 * allocation holding the array and the strings (free with free()). */
int vkti_dir_list(vkti_diag *d, const char *path, char ***names, int *count);
void vkti_dir_list_free(char **names, int count);

/* The per-user cache directory for vkti ($XDG_CACHE_HOME/vkti, ~/.cache/vkti, %LOCALAPPDATA%\vkti). */
int vkti_cache_dir(char *out, size_t cap);

/* Terminal width in columns of stdout, or 0 when stdout is not a terminal. */
int vkti_terminal_width(void);
int vkti_stdout_is_tty(void);
int vkti_stderr_is_tty(void);

/* Ctrl-C: after vkti_interrupt_install(), the first Ctrl-C sets a flag that
 * vkti_interrupt_requested() returns; a second one ends the process the usual way. */
void vkti_interrupt_install(void);
int vkti_interrupt_requested(void);

#endif
