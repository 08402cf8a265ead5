/* test_infotext.c — what `vkti generate` writes beside the pixels: AUTOMATIC1111's parameters text
 * (key order, quoting of values holding , : or newlines as A1111's quote() does, the optional keys),
 * SHA-256 against the FIPS 180-4 examples (the hashes A1111 matches models and embeddings by), and
 * the preview grid's layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "sample/grid.h"
#include "sample/infotext.h"
#include "check.h"

static void expect_text(const vkti_infotext *t, const char *want, const char *what)
{
    char *got = vkti_infotext_format(t);
    CHECK(got && !strcmp(got, want), "%s:\n  got  %s\n  want %s", what, got ? got : "(null)", want);
    free(got);
}

static void test_infotext(void)
{
    vkti_infotext t = {.prompt = "a photo of <my-cat>", .negative = "blurry, low quality", .steps = 20,
                       .sampler = "Euler a", .cfg = 7, .seed = 1, .width = 512, .height = 512,
                       .model_hash = "6ce01616", .model = "v1-5-pruned-emaonly"};
    expect_text(&t, "a photo of <my-cat>\nNegative prompt: blurry, low quality\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                    "Seed: 1, Size: 512x512, Model hash: 6ce01616, Model: v1-5-pruned-emaonly", "A1111's form");
    t.negative = NULL;
    t.cfg = 7.5;
    t.model_hash = NULL;
    t.model = "my: model, v2";
    t.eta = 0.25;
    t.batch_size = 4;
    t.batch_pos = 3;
    t.ti_hashes = "<my-cat>: 0123456789ab";
    t.version = "vkti 0.1.0";
    t.seed = 9007199254740991ull;
    expect_text(&t, "a photo of <my-cat>\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 9007199254740991, "
                    "Size: 512x512, Model: \"my: model, v2\", Eta DDIM: 0.25, Batch size: 4, Batch pos: 3, "
                    "TI hashes: \"<my-cat>: 0123456789ab\", Version: vkti 0.1.0",
                "optional keys, quoting");
    vkti_infotext q = {.prompt = "", .negative = "", .steps = 1, .sampler = "DPM++ 2M Karras", .cfg = 1, .seed = 0,
                       .width = 64, .height = 32, .model = "a\"b\\c\nd"};
    expect_text(&q, "Steps: 1, Sampler: DPM++ 2M Karras, CFG scale: 1, Seed: 0, Size: 64x32, Model: \"a\\\"b\\\\c\\nd\"",
                "JSON escapes in a quoted value; an empty negative prompt has no line; stripped");
}

static void hex_of(const void *data, size_t n, char out[65]) { vkti_sha256_hex(data, n, out); }

static void test_sha256(void)
{
    char h[65];
    hex_of("abc", 3, h);
    CHECK(!strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "abc: %s", h);
    hex_of("", 0, h);
    CHECK(!strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "empty: %s", h);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), h);
    CHECK(!strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "two blocks: %s", h);
    /* a million 'a', fed in uneven pieces */
    vkti_sha256 s;
    uint8_t dg[32], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    vkti_sha256_init(&s);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 997 + 1) {
        size_t n = k < left ? k : left;
        vkti_sha256_update(&s, chunk, n);
        left -= n;
    }
    vkti_sha256_final(&s, dg);
    for (int i = 0; i < 32; i++)
        snprintf(h + 2 * i, 3, "%02x", dg[i]);
    CHECK(!strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "a million a: %s", h);
}

static void test_grid(void)
{
    CHECK(vkti_grid_columns(1) == 1 && vkti_grid_columns(2) == 2 && vkti_grid_columns(4) == 2 &&
              vkti_grid_columns(5) == 3 && vkti_grid_columns(9) == 3 && vkti_grid_columns(10) == 4,
          "columns");
    const int n = 5, w = 7, h = 5, g = VKTI_GRID_GAP;
    uint8_t *rgb = malloc((size_t)n * w * h * 3);
    for (int i = 0; i < n * w * h * 3; i++)
        rgb[i] = (uint8_t)(i / (w * h * 3) * 40 + 10);
    vkti_diag d = {0};
    vkti_canvas c;
    int rc = vkti_grid_make(&d, &c, rgb, n, w, h, 0, NULL);
    CHECK(rc == 0 && c.w == 3 * w + 4 * g && c.h == 2 * h + 3 * g, "5 pictures: 3 x 2 grid %dx%d", c.w, c.h);
    if (rc == 0) {
        /* picture 4 (row 1, column 1) starts at (g + w + g, g + h + g) */
        const uint8_t *p = c.rgb + ((size_t)(2 * g + h) * c.w + (size_t)(2 * g + w)) * 3;
        CHECK(p[0] == 4 * 40 + 10, "picture 4 in its cell: %d", p[0]);
        const uint8_t *bg = c.rgb + ((size_t)(c.h - 1) * c.w + (size_t)(c.w - 1)) * 3;
        CHECK(bg[0] == 0x20, "background in the empty cell");
        vkti_canvas_free(&c);
    }
    rc = vkti_grid_make(&d, &c, rgb, n, w, h, 5, "step 100, seed 1: a very long caption that wraps");
    CHECK(rc == 0 && c.w == 5 * w + 6 * g && c.h > h + 2 * g, "one row with a caption: %dx%d", c.w, c.h);
    if (rc == 0)
        vkti_canvas_free(&c);
    free(rgb);
}

int main(void)
{
    test_infotext();
    test_sha256();
    test_grid();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
