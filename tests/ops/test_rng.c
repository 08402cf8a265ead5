/* test_rng.c — the Philox-4x32-10 generator (src/ops/rng.h): the host Philox against the
 * published Random123 known-answer vectors, the GPU against the same vectors and bit for bit
 * against the host over a million words, the Gaussian transform against double, and the
 * statistics of a million samples: mean, variance, kurtosis, tail mass, lag-1 and cross-stream
 * and cross-step correlations, uniformity of the raw bytes; then reproducibility of a replayed
 * recording whose key tensor the host rewrites between submissions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ops/rng.h"
#include "ref/ref_rng.h"

#define GUARD_WORDS 64
#define SENTINEL 0xA5C3A5C3u

/* Random123's kat_vectors, "philox4x32 10": counter[4], key[2] -> out[4] */
static const uint32_t KAT[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
     0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
     0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

static int key_tensor(th *t, vkti_tensor *out, const uint32_t key[4])
{
    int64_t four = 4;
    return th_ok(t, vkti_arena_tensor(t->arena, out, VKTI_U32, 1, &four)) &&
           th_ok(t, vkti_tensor_upload(t->g, out, key, 4 * sizeof(uint32_t)));
}

/* a u32 output of n words followed by GUARD_WORDS sentinel words (th_output is for floats) */
static int bits_output(th *t, vkti_tensor *whole, vkti_tensor *out, int64_t n)
{
    int64_t total = n + GUARD_WORDS;
    uint32_t *h = th_alloc(t, sizeof(uint32_t) * (size_t)total);
    if (!h || !th_ok(t, vkti_arena_tensor(t->arena, whole, VKTI_U32, 1, &total)))
        return 0;
    for (int64_t i = 0; i < total; i++)
        h[i] = SENTINEL;
    return th_ok(t, vkti_tensor_upload(t->g, whole, h, sizeof(uint32_t) * (size_t)total)) &&
           th_ok(t, vkti_tensor_view(t->g, out, whole, 0, 1, &n));
}

/* downloads the n words and checks the guard words */
static uint32_t *bits_download(th *t, const vkti_tensor *whole, int64_t n)
{
    int64_t total = n + GUARD_WORDS;
    uint32_t *h = th_alloc(t, sizeof(uint32_t) * (size_t)total);
    if (!h || !th_ok(t, vkti_tensor_download(t->g, whole, h, sizeof(uint32_t) * (size_t)total)))
        return NULL;
    for (int64_t i = n; i < total; i++)
        if (h[i] != SENTINEL) {
            th_fail(t, "write past the output: word +%lld changed", (long long)(i - n));
            return NULL;
        }
    return h;
}

static void host_kat(th *t)
{
    if (!th_case(t, "philox4x32-10 host: Random123 known answers"))
        return;
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        ref_philox4x32_10(out, KAT[v], KAT[v] + 4);
        if (memcmp(out, KAT[v] + 6, sizeof out))
            th_fail(t, "vector %d: got %08x %08x %08x %08x, want %08x %08x %08x %08x", v, out[0], out[1], out[2], out[3],
                    KAT[v][6], KAT[v][7], KAT[v][8], KAT[v][9]);
    }
}

/* The GPU draws the vectors directly: first_block = counter[0], stream = counter[1], the key
 * tensor holds {key[0], key[1], counter[2], counter[3]}. */
static void gpu_kat(th *t)
{
    if (!th_case(t, "philox4x32-10 gpu: Random123 known answers"))
        return;
    for (int v = 0; v < 3; v++) {
        const uint32_t *k = KAT[v];
        uint32_t key[4] = {k[4], k[5], k[2], k[3]};
        vkti_tensor tk, whole, out;
        if (!key_tensor(t, &tk, key) || !bits_output(t, &whole, &out, 4) || !th_begin(t) ||
            !th_ok(t, vkti_rng_bits_forward(t->cmd, &out, &tk, k[1], k[0])) || !th_submit(t))
            return;
        uint32_t *got = bits_download(t, &whole, 4);
        if (got && memcmp(got, k + 6, 4 * sizeof(uint32_t)))
            th_fail(t, "vector %d: got %08x %08x %08x %08x, want %08x %08x %08x %08x", v, got[0], got[1], got[2], got[3],
                    k[6], k[7], k[8], k[9]);
    }
}

/* GPU words against the host, and the chi-square of their bytes (every byte of every word:
 * 256 bins, 255 degrees of freedom: mean 255, sd 22.6; the bound is mean + 5 sd). */
static void bits_case(th *t, int64_t n, uint64_t seed, uint64_t counter, uint32_t stream, uint32_t first)
{
    if (!th_case(t, "bits n=%lld seed %llx counter %llx stream %u first block %u", (long long)n,
                 (unsigned long long)seed, (unsigned long long)counter, stream, first))
        return;
    uint32_t key[4];
    vkti_rng_key(key, seed, counter);
    vkti_tensor tk, whole, out;
    if (!key_tensor(t, &tk, key) || !bits_output(t, &whole, &out, n) || !th_begin(t) ||
        !th_ok(t, vkti_rng_bits_forward(t->cmd, &out, &tk, stream, first)) || !th_submit(t))
        return;
    uint32_t *got = bits_download(t, &whole, n);
    if (!got)
        return;
    int64_t mismatches = 0, first_bad = -1;
    double counts[256] = {0};
    for (int64_t b = 0; b < (n + 3) / 4; b++) {
        uint32_t want[4];
        ref_rng_block(want, key, stream, first + (uint32_t)b);
        for (int64_t i = 4 * b; i < n && i < 4 * b + 4; i++) {
            if (got[i] != want[i - 4 * b] && mismatches++ == 0)
                first_bad = i;
            for (int s = 0; s < 32; s += 8)
                counts[(got[i] >> s) & 255u] += 1;
        }
    }
    if (mismatches)
        th_fail(t, "%lld of %lld words differ from the host Philox, first at [%lld]", (long long)mismatches, (long long)n,
                (long long)first_bad);
    if (n >= 100000) {
        double expect = 4.0 * (double)n / 256.0, chi2 = 0;
        for (int i = 0; i < 256; i++)
            chi2 += (counts[i] - expect) * (counts[i] - expect) / expect;
        if (t->verbose)
            printf("     byte chi-square %.1f (255 dof, bound 368)\n", chi2);
        if (!(chi2 < 255 + 5 * 22.58))
            th_fail(t, "byte chi-square %.1f over 368 (255 degrees of freedom)", chi2);
    }
}

/* the normal samples the op should write, from the host Philox and double Box-Muller */
static double *ref_normals(th *t, const uint32_t key[4], uint32_t stream, int64_t n)
{
    double *ref = th_alloc(t, sizeof(double) * (size_t)(n + 4));
    for (int64_t b = 0; ref && b < (n + 3) / 4; b++) {
        uint32_t w[4];
        ref_rng_block(w, key, stream, (uint32_t)b);
        ref_box_muller(ref + 4 * b, w[0], w[1]);
        ref_box_muller(ref + 4 * b + 2, w[2], w[3]);
    }
    return ref;
}

static void normal_case(th *t, vkti_dtype dt, int64_t n, uint64_t seed, uint64_t counter, uint32_t stream)
{
    if (!th_case(t, "normal %s n=%lld vs double Box-Muller", vkti_dtype_name(dt), (long long)n))
        return;
    uint32_t key[4];
    vkti_rng_key(key, seed, counter);
    vkti_tensor tk, out;
    double *ref = ref_normals(t, key, stream, n);
    if (!ref || !key_tensor(t, &tk, key) || !th_output(t, &out, dt, 1, &n) || !th_begin(t) ||
        !th_ok(t, vkti_rng_normal_forward(t->cmd, &out, &tk, stream, 0)) || !th_submit(t))
        return;
    /* f32: the radius sqrt(-2 ln u1) within ~4 ulp (log ~2 ulp, halved by the root, plus
     * sqrt's 3 ulp Vulkan bound): rel 6e-7 of z; sin and cos within ~2 ulp of 1 absolute,
     * times the radius (<= 5.8): 7e-7 absolute. f16: one rounding (2^-11 relative) on top. */
    th_check(t, &out, ref, dt == VKTI_F16 ? (th_tol){1e-3, 1e-6} : (th_tol){6e-7, 7e-7});
}

static double corr(const float *a, const float *b, int64_t n)
{
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        sa += a[i], sb += b[i];
        sab += (double)a[i] * b[i], saa += (double)a[i] * a[i], sbb += (double)b[i] * b[i];
    }
    double ma = sa / (double)n, mb = sb / (double)n;
    return (sab / (double)n - ma * mb) / sqrt((saa / (double)n - ma * ma) * (sbb / (double)n - mb * mb));
}

static void bound(th *t, const char *what, double got, double want, double sd)
{
    if (t->verbose)
        printf("     %-34s %+.6f (expected %.6f, bound +-%.6f = 5 sd)\n", what, got, want, 5 * sd);
    if (!(fabs(got - want) <= 5 * sd))
        th_fail(t, "%s is %.6f, expected %.6f +- %.6f (5 standard deviations)", what, got, want, 5 * sd);
}

/* One recording draws stream 0 and stream 1; it is replayed with the counter at 7, 8 and 7
 * again (the key tensor rewritten in between, as the trainer does each step). */
static void stats_case(th *t)
{
    const int64_t n = 1 << 20;
    if (!th_case(t, "normal f32 statistics over %lld samples, streams, steps, replay", (long long)n))
        return;
    uint32_t key[4];
    vkti_tensor tk, a, b;
    vkti_rng_key(key, 0x5eed5eed12345678ull, 7);
    if (!key_tensor(t, &tk, key) || !th_output(t, &a, VKTI_F32, 1, &n) || !th_output(t, &b, VKTI_F32, 1, &n) ||
        !th_begin(t) || !th_ok(t, vkti_rng_normal_forward(t->cmd, &a, &tk, 0, 0)) ||
        !th_ok(t, vkti_rng_normal_forward(t->cmd, &b, &tk, 1, 0)) || !th_submit(t))
        return;
    float *a7 = th_download(t, &a), *b7 = th_download(t, &b), *a8, *a7again;
    if (!a7 || !b7)
        return;
    vkti_rng_key(key, 0x5eed5eed12345678ull, 8);
    if (!th_ok(t, vkti_tensor_upload(t->g, &tk, key, sizeof key)) || !th_ok(t, vkti_cmd_submit(t->cmd, 1)) ||
        !(a8 = th_download(t, &a)))
        return;
    vkti_rng_key(key, 0x5eed5eed12345678ull, 7);
    if (!th_ok(t, vkti_tensor_upload(t->g, &tk, key, sizeof key)) || !th_ok(t, vkti_cmd_submit(t->cmd, 1)) ||
        !(a7again = th_download(t, &a)))
        return;

    if (memcmp(a7, a7again, sizeof(float) * (size_t)n))
        th_fail(t, "the same key gave different bits on replay");
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++)
        same += a7[i] == a8[i];
    if (same > 16)
        th_fail(t, "counters 7 and 8 gave %lld equal samples of %lld", (long long)same, (long long)n);

    /* moments of N(0, 1) from n samples: sd(mean) = 1/sqrt(n), sd(var) = sqrt(2/n),
     * sd(4th moment) = sqrt((105 - 9)/n), sd(fraction) = sqrt(p(1 - p)/n); sample
     * correlations of independent series have sd 1/sqrt(n). */
    double s1 = 0, s2 = 0, s4 = 0, tail2 = 0, tail3 = 0, dn = (double)n, zmax = 0;
    for (int64_t i = 0; i < n; i++) {
        double z = a7[i];
        s1 += z, s2 += z * z, s4 += z * z * z * z;
        tail2 += fabs(z) > 2, tail3 += fabs(z) > 3;
        zmax = fmax(zmax, fabs(z));
    }
    double p2 = 0.04550026389635842, p3 = 0.0026997960632601866;
    bound(t, "mean", s1 / dn, 0, 1 / sqrt(dn));
    bound(t, "variance", s2 / dn - (s1 / dn) * (s1 / dn), 1, sqrt(2 / dn));
    bound(t, "fourth moment", s4 / dn, 3, sqrt(96 / dn));
    bound(t, "P(|z| > 2)", tail2 / dn, p2, sqrt(p2 * (1 - p2) / dn));
    bound(t, "P(|z| > 3)", tail3 / dn, p3, sqrt(p3 * (1 - p3) / dn));
    bound(t, "lag-1 correlation", corr(a7, a7 + 1, n - 1), 0, 1 / sqrt(dn - 1));
    bound(t, "lag-4 correlation (next block)", corr(a7, a7 + 4, n - 4), 0, 1 / sqrt(dn - 4));
    bound(t, "stream 0 vs stream 1 correlation", corr(a7, b7, n), 0, 1 / sqrt(dn));
    bound(t, "counter 7 vs 8 correlation", corr(a7, a8, n), 0, 1 / sqrt(dn));
    if (!(zmax <= 5.7683))
        th_fail(t, "|z| reached %g, above sqrt(2 ln 2^24) = 5.768", zmax);
}

TH_SUITE(rng)
{
    host_kat(t);
    gpu_kat(t);
    bits_case(t, 1001, 0x0123456789abcdefull, 0xfedcba9876543210ull, 5, 0);
    bits_case(t, 1 << 20, 42, 1, 0, 0);
    bits_case(t, 11, 42, 1, 0xffffffffu, 0xfffffffeu); /* the block counter wraps to 0 */
    normal_case(t, VKTI_F32, 1, 1, 0, 0);
    normal_case(t, VKTI_F32, (1 << 20) + 3, 0x9e3779b97f4a7c15ull, 123456789, 3);
    if (t->allow_f16)
        normal_case(t, VKTI_F16, 100003, 7, 1000, 0);
    stats_case(t);
}
