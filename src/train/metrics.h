/* metrics.h — what training records about itself: a JSON-lines log (one object per line, handed
 * to the operating system line by line, so a crash loses at most the line being written and a
 * partial last line is ignored by readers) and TensorBoard event files (TFRecord frames of
 * hand-encoded Event protocol buffers: scalars and PNG images) that `tensorboard --logdir` reads.
 *
 * Layout in the output folder: metrics.jsonl and tensorboard/events.out.tfevents.<time>.<host>.
 * A JSON line: {"kind": "train", "step": 120, "time": 1712345678.123, "loss": 0.1234, "lr": 0.0005}
 * (time: seconds since 1970 UTC; non-finite numbers are written as null). TensorBoard tags are
 * "<kind>/<name>" ("train/loss", "eval/loss"). */
#ifndef VKTI_TRAIN_METRICS_H
#define VKTI_TRAIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/diag.h"
#include "base/platform.h"

#define VKTI_METRICS_LINE_MAX 4096     /* bytes of one JSON line */
#define VKTI_METRICS_FILE_MAX (1u << 30) /* a metrics.jsonl read back on resume */

/* One named value of a record: a number, or text when text is not NULL (JSON only). */
typedef struct vkti_metric {
    const char *name;
    double value;
    const char *text;
} vkti_metric;

/* ---- JSON lines ---------------------------------------------------------------------------- */

/* Formats one record as a JSON line ending in '\n'. Names are JSON-escaped; numbers are written in
 * their shortest exact form. Fails if it does not fit in cap. */
int vkti_jsonl_format(vkti_diag *d, char *out, size_t cap, const char *kind, int64_t step, double time,
                      const vkti_metric *values, int count);

/* Walks a JSON-lines text: calls fn for every complete line that parses as a JSON object with a
 * whole-number "step"; counts the lines it skips (corrupt, or the unterminated last line a crash
 * can leave). fn returns 0 to go on. */
typedef int (*vkti_jsonl_fn)(void *user, const cJSON *record, int64_t step, const char *line, size_t len);
int vkti_jsonl_scan(const char *text, size_t len, vkti_jsonl_fn fn, void *user, int *skipped);

/* ---- TensorBoard ---------------------------------------------------------------------------- */

/* CRC-32C (Castagnoli), continuing from crc (start with 0), and TFRecord's masking of it. */
uint32_t vkti_crc32c(uint32_t crc, const void *data, size_t size);
uint32_t vkti_crc32c_mask(uint32_t crc);

/* A growing byte buffer for encoders (allocation failure is remembered in oom). */
typedef struct vkti_bytes {
    uint8_t *data;
    size_t size, cap;
    int oom;
} vkti_bytes;
void vkti_bytes_free(vkti_bytes *b);

/* Encoders: each appends one TFRecord (length, masked CRC of the length, an Event message,
 * masked CRC of the message) to out. step 0 is left out of the Event (proto3 default). */
void vkti_tb_encode_file_version(vkti_bytes *out, double wall_time);
void vkti_tb_encode_scalars(vkti_bytes *out, double wall_time, int64_t step, const char *tag_prefix,
                            const vkti_metric *values, int count);
void vkti_tb_encode_image(vkti_bytes *out, double wall_time, int64_t step, const char *tag, const uint8_t *png,
                          size_t png_size, int width, int height, int channels);

/* ---- the two together ----------------------------------------------------------------------- */

typedef struct vkti_metrics vkti_metrics;

/* Opens out_dir/metrics.jsonl (and, with tensorboard, a new event file under out_dir/tensorboard/).
 * resume_step < 0 starts a new log (an old metrics.jsonl is replaced); resume_step >= 0 continues
 * one: records of later steps (written after that checkpoint) and a partial last line are dropped
 * first, so the log reads as if the run had never stopped. TensorBoard drops such steps itself
 * when it sees a step go backwards in the new file. */
int vkti_metrics_open(vkti_diag *d, const char *out_dir, int64_t resume_step, int tensorboard, vkti_metrics **out);
/* One record: a JSON line, and the numeric values as TensorBoard scalars "<kind>/<name>". */
int vkti_metrics_log(vkti_diag *d, vkti_metrics *m, const char *kind, int64_t step, const vkti_metric *values,
                     int count);
/* A PNG preview (TensorBoard only): tag e.g. "preview/0". */
int vkti_metrics_image(vkti_diag *d, vkti_metrics *m, const char *tag, int64_t step, const uint8_t *png,
                       size_t png_size, int width, int height, int channels);
/* The event file's path ("" without TensorBoard). */
const char *vkti_metrics_tb_path(const vkti_metrics *m);
void vkti_metrics_close(vkti_metrics *m);

#endif
