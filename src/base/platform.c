/* platform.c — operating-system calls (see platform.h): a POSIX half and a Win32 half. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include "base/platform.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <io.h>
#include <direct.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#endif

/* Written by the signal handler only; sig_atomic_t is the one type a handler may touch.
 * This is the process's only mutable global: a signal handler has no other place to write. */
static volatile sig_atomic_t g_interrupted;

static void on_interrupt(int sig)
{
    if (g_interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_interrupted = 1;
}

void vkti_interrupt_install(void)
{
    signal(SIGINT, on_interrupt);
#if !defined(_WIN32)
    signal(SIGTERM, on_interrupt);
#endif
}

int vkti_interrupt_requested(void) { return g_interrupted != 0; }

int vkti_file_read(vkti_diag *d, const char *path, size_t max_bytes, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot seek (is it a regular file?)", path);
    }
    long len = ftell(f);
    if (len < 0) {
        fclose(f);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot tell its size", path);
    }
    if ((unsigned long)len > max_bytes) {
        fclose(f);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %ld bytes is more than the %zu this file may have",
                         path, len, max_bytes);
    }
    rewind(f);
    uint8_t *buf = malloc((size_t)len + 1);
    if (!buf) {
        fclose(f);
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory reading %ld bytes", path, len);
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) {
        free(buf);
        return vkti_fail(d, VKTI_E_IO, "%s: short read", path);
    }
    buf[len] = 0;
    *data = buf;
    *size = (size_t)len;
    return VKTI_OK;
}

struct vkti_file {
    FILE *f;
    char path[1024];
};

int vkti_file_open_append(vkti_diag *d, const char *path, vkti_file **out)
{
    *out = NULL;
    vkti_file *h = calloc(1, sizeof *h);
    if (!h)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of host memory opening the file", path);
    h->f = fopen(path, "ab");
    if (!h->f) {
        int e = errno;
        free(h);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot open for appending: %s", path, strerror(e));
    }
    snprintf(h->path, sizeof h->path, "%s", path);
    *out = h;
    return VKTI_OK;
}

int vkti_file_append(vkti_diag *d, vkti_file *f, const void *data, size_t size)
{
    if (size && fwrite(data, 1, size, f->f) != size)
        return vkti_fail(d, VKTI_E_IO, "%s: write failed (disk full?)", f->path);
    if (fflush(f->f) != 0)
        return vkti_fail(d, VKTI_E_IO, "%s: flush failed: %s", f->path, strerror(errno));
    return VKTI_OK;
}

int vkti_file_sync(vkti_diag *d, vkti_file *f)
{
    if (fflush(f->f) != 0)
        return vkti_fail(d, VKTI_E_IO, "%s: flush failed: %s", f->path, strerror(errno));
#if defined(_WIN32)
    int r = _commit(_fileno(f->f));
#else
    int r = fsync(fileno(f->f));
#endif
    if (r != 0)
        return vkti_fail(d, VKTI_E_IO, "%s: sync to disk failed: %s", f->path, strerror(errno));
    return VKTI_OK;
}

void vkti_file_close(vkti_file *f)
{
    if (!f)
        return;
    fclose(f->f);
    free(f);
}

int vkti_file_exists(const char *path)
{
#if defined(_WIN32)
    DWORD a = GetFileAttributesA(path);
    return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
#else
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
#endif
}

int vkti_file_same(const char *a, const char *b)
{
#if defined(_WIN32)
    BY_HANDLE_FILE_INFORMATION info[2];
    const char *path[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        HANDLE h = CreateFileA(path[i], 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS, NULL);
        if (h == INVALID_HANDLE_VALUE)
            return 0;
        BOOL ok = GetFileInformationByHandle(h, &info[i]);
        CloseHandle(h);
        if (!ok)
            return 0;
    }
    return info[0].dwVolumeSerialNumber == info[1].dwVolumeSerialNumber &&
           info[0].nFileIndexHigh == info[1].nFileIndexHigh && info[0].nFileIndexLow == info[1].nFileIndexLow;
#else
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
#endif
}

int vkti_dir_exists(const char *path)
{
#if defined(_WIN32)
    DWORD a = GetFileAttributesA(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
#else
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
#endif
}

int vkti_file_remove(const char *path) { return remove(path) == 0 ? VKTI_OK : VKTI_E_IO; }

const char *vkti_env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

int vkti_home_dir(char *out, size_t cap)
{
#if defined(_WIN32)
    const char *h = vkti_env("USERPROFILE");
#else
    const char *h = vkti_env("HOME");
#endif
    if (!h)
        return VKTI_E_IO;
    int n = snprintf(out, cap, "%s", h);
    return (n > 0 && (size_t)n < cap) ? VKTI_OK : VKTI_E_IO;
}

int vkti_mkdir_p(vkti_diag *d, const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return vkti_fail(d, VKTI_E_INVALID, "directory path is empty or too long: '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\\' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        if (!vkti_dir_exists(buf)) {
#if defined(_WIN32)
            int r = _mkdir(buf);
#else
            int r = mkdir(buf, 0777);
#endif
            if (r != 0 && errno != EEXIST)
                return vkti_fail(d, VKTI_E_IO, "cannot create directory %s: %s", buf, strerror(errno));
        }
        buf[i] = c;
    }
    return VKTI_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Packs n names (collected in a growing buffer of NUL-terminated strings) into one allocation. */
static int pack_names(vkti_diag *d, const char *buf, size_t used, int n, char ***names, int *count)
{
    char **arr = malloc(sizeof(char *) * (size_t)(n ? n : 1) + used);
    if (!arr)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory listing a directory");
    char *strs = (char *)(arr + (n ? n : 1));
    if (used) /* an empty directory has no buffer: memcpy from NULL is undefined even for 0 bytes */
        memcpy(strs, buf, used);
    for (int i = 0; i < n; i++) {
        arr[i] = strs;
        strs += strlen(strs) + 1;
    }
    qsort(arr, (size_t)n, sizeof *arr, cmp_names);
    *names = arr;
    *count = n;
    return VKTI_OK;
}

static int append_name(vkti_diag *d, char **buf, size_t *used, size_t *cap, const char *name)
{
    size_t len = strlen(name) + 1;
    if (*used + len > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 4096) + len;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return vkti_fail(d, VKTI_E_OOM, "out of host memory listing a directory");
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *used, name, len);
    *used += len;
    return VKTI_OK;
}

int vkti_dir_list(vkti_diag *d, const char *path, char ***names, int *count)
{
    *names = NULL;
    *count = 0;
    char *buf = NULL;
    size_t used = 0, cap = 0;
    int n = 0, rc = VKTI_OK;
#if defined(_WIN32)
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s\\*", path);
    WIN32_FIND_DATAA fd;
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot list the directory", path);
    do {
        if (!strcmp(fd.cFileName, ".") || !strcmp(fd.cFileName, ".."))
            continue;
        if ((rc = append_name(d, &buf, &used, &cap, fd.cFileName)))
            break;
        n++;
    } while (FindNextFileA(h, &fd));
    FindClose(h);
#else
    DIR *dir = opendir(path);
    if (!dir)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot list the directory: %s", path, strerror(errno));
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((rc = append_name(d, &buf, &used, &cap, e->d_name)))
            break;
        n++;
    }
    closedir(dir);
#endif
    if (rc == VKTI_OK)
        rc = pack_names(d, buf, used, n, names, count);
    free(buf);
    return rc;
}

void vkti_dir_list_free(char **names, int count)
{
    (void)count; /* one allocation holds the array and the strings */
    free(names);
}

int vkti_cache_dir(char *out, size_t cap)
{
    const char *base;
    int n;
#if defined(_WIN32)
    base = getenv("LOCALAPPDATA");
    if (!base)
        return VKTI_E_IO;
    n = snprintf(out, cap, "%s\\vkti", base);
#else
    base = getenv("XDG_CACHE_HOME");
    if (base && base[0])
        n = snprintf(out, cap, "%s/vkti", base);
    else if ((base = getenv("HOME")) && base[0])
        n = snprintf(out, cap, "%s/.cache/vkti", base);
    else
        return VKTI_E_IO;
#endif
    return (n > 0 && (size_t)n < cap) ? VKTI_OK : VKTI_E_IO;
}

#if defined(_WIN32)

double vkti_now(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
}

double vkti_wall_time(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    /* 100-ns intervals since 1601-01-01; 11644473600 s separate that from 1970-01-01 */
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return (double)t * 1e-7 - 11644473600.0;
}

void vkti_hostname(char *out, size_t cap)
{
    char buf[MAX_COMPUTERNAME_LENGTH + 1];
    DWORD n = sizeof buf;
    if (!GetComputerNameA(buf, &n) || n == 0)
        snprintf(buf, sizeof buf, "localhost");
    snprintf(out, cap, "%s", buf);
}

int vkti_file_map(vkti_diag *d, const char *path, vkti_mapped_file *out)
{
    memset(out, 0, sizeof *out);
    HANDLE fh = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, NULL);
    if (fh == INVALID_HANDLE_VALUE)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot open", path);
    LARGE_INTEGER sz;
    if (!GetFileSizeEx(fh, &sz)) {
        CloseHandle(fh);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot get size", path);
    }
    out->size = (size_t)sz.QuadPart;
    if (out->size == 0) {
        CloseHandle(fh);
        out->data = (const uint8_t *)"";
        return VKTI_OK;
    }
    HANDLE mh = CreateFileMappingA(fh, NULL, PAGE_READONLY, 0, 0, NULL);
    CloseHandle(fh);
    if (!mh)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot map", path);
    out->data = MapViewOfFile(mh, FILE_MAP_READ, 0, 0, 0);
    CloseHandle(mh);
    if (!out->data)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot map view", path);
    out->mapped_ = 1;
    return VKTI_OK;
}

void vkti_file_unmap(vkti_mapped_file *f)
{
    if (f->mapped_)
        UnmapViewOfFile(f->data);
    memset(f, 0, sizeof *f);
}

int vkti_file_write_atomic(vkti_diag *d, const char *path, const void *data, size_t size)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%lu", path, (unsigned long)GetCurrentProcessId());
    HANDLE h = CreateFileA(tmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot create temporary file", tmp);
    const uint8_t *p = data;
    size_t left = size;
    while (left) {
        DWORD chunk = left > (1u << 30) ? (1u << 30) : (DWORD)left, wrote = 0;
        if (!WriteFile(h, p, chunk, &wrote, NULL) || wrote == 0) {
            CloseHandle(h);
            DeleteFileA(tmp);
            return vkti_fail(d, VKTI_E_IO, "%s: write failed (disk full?)", tmp);
        }
        p += wrote;
        left -= wrote;
    }
    FlushFileBuffers(h);
    CloseHandle(h);
    if (!MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        DeleteFileA(tmp);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot replace with %s", path, tmp);
    }
    return VKTI_OK;
}

int vkti_dir_remove(const char *path) { return RemoveDirectoryA(path) ? VKTI_OK : VKTI_E_IO; }

int vkti_terminal_width(void)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (!GetConsoleScreenBufferInfo(GetStdHandle(STD_OUTPUT_HANDLE), &info))
        return 0;
    return info.srWindow.Right - info.srWindow.Left + 1;
}

int vkti_stdout_is_tty(void) { return _isatty(_fileno(stdout)); }
int vkti_stderr_is_tty(void) { return _isatty(_fileno(stderr)); }

#else /* POSIX */

double vkti_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vkti_wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vkti_hostname(char *out, size_t cap)
{
    char buf[256];
    if (gethostname(buf, sizeof buf) != 0 || buf[0] == 0)
        snprintf(buf, sizeof buf, "localhost");
    buf[sizeof buf - 1] = 0;
    snprintf(out, cap, "%s", buf);
}

int vkti_file_map(vkti_diag *d, const char *path, vkti_mapped_file *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vkti_fail(d, VKTI_E_IO, "%s: not a regular file", path);
    }
    out->size = (size_t)st.st_size;
    if (out->size == 0) {
        close(fd);
        out->data = (const uint8_t *)"";
        return VKTI_OK;
    }
    void *p = mmap(NULL, out->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot map: %s", path, strerror(errno));
    out->data = p;
    out->mapped_ = 1;
    return VKTI_OK;
}

void vkti_file_unmap(vkti_mapped_file *f)
{
    if (f->mapped_)
        munmap((void *)f->data, f->size);
    memset(f, 0, sizeof *f);
}

int vkti_file_write_atomic(vkti_diag *d, const char *path, const void *data, size_t size)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return vkti_fail(d, VKTI_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = size;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return vkti_fail(d, VKTI_E_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return vkti_fail(d, VKTI_E_IO, "%s: flush failed: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vkti_fail(d, VKTI_E_IO, "%s: cannot replace: %s", path, strerror(e));
    }
    return VKTI_OK;
}

int vkti_dir_remove(const char *path) { return rmdir(path) == 0 ? VKTI_OK : VKTI_E_IO; }

int vkti_terminal_width(void)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
        return 0;
    return ws.ws_col;
}

int vkti_stdout_is_tty(void) { return isatty(STDOUT_FILENO); }
int vkti_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

#endif
