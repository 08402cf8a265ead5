/* test_templates.c — the built-in template sets (checked against a hash of diffusers' lists taken
 * from its source with Python's ast module), template files with [name]/[filewords] (valid and
 * hostile), rendering in A1111's replacement order, the deterministic choice, and captions from
 * NAME.txt or the file name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "train/templates.h"
#include "check.h"

/* FNV-1a 64 over each template's UTF-8 bytes followed by '\n' */
static uint64_t hash_lines(const vkti_templates *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < t->count; i++) {
        for (const unsigned char *p = (const unsigned char *)t->lines[i]; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ull;
        }
        h ^= '\n';
        h *= 0x100000001b3ull;
    }
    return h;
}

static void test_builtin(void)
{
    vkti_diag d = {0};
    vkti_templates t;
    char out[256];
    CHECK(vkti_templates_builtin(&d, &t, VKTI_TEMPLATE_OBJECT) == VKTI_OK && t.count == 27 && !t.a1111 &&
              !t.uses_filewords,
          "object set");
    /* from diffusers' textual_inversion.py: ast.literal_eval of imagenet_templates_small */
    CHECK(hash_lines(&t) == 0x74e3df77aa3d3cc0ull, "object templates differ from diffusers' (hash %016llx)",
          (unsigned long long)hash_lines(&t));
    CHECK(vkti_template_render(&d, &t, 0, "<my-cat>", NULL, out, sizeof out) == VKTI_OK &&
              !strcmp(out, "a photo of a <my-cat>"),
          "render: %s", out);
    CHECK(vkti_template_render(&d, &t, 26, "<c> <c>_1 <c>_2", NULL, out, sizeof out) == VKTI_OK &&
              !strcmp(out, "a photo of a small <c> <c>_1 <c>_2"),
          "render several vectors: %s", out);
    CHECK(vkti_template_render(&d, &t, 27, "x", NULL, out, sizeof out) == VKTI_E_INVALID, "index past the end");
    CHECK(vkti_template_render(&d, &t, -1, "x", NULL, out, sizeof out) == VKTI_E_INVALID, "negative index");
    CHECK(vkti_template_render(&d, &t, 0, "<my-cat>", NULL, out, 10) == VKTI_E_INVALID, "small buffer");
    vkti_templates_free(&t);
    CHECK(vkti_templates_builtin(&d, &t, VKTI_TEMPLATE_STYLE) == VKTI_OK && t.count == 19, "style set");
    CHECK(hash_lines(&t) == 0x86c6021d2b94c5cdull, "style templates differ from diffusers' (hash %016llx)",
          (unsigned long long)hash_lines(&t));
    CHECK(vkti_template_render(&d, &t, 7, "<sty>", NULL, out, sizeof out) == VKTI_OK &&
              !strcmp(out, "a picture in the style of <sty>"),
          "style render: %s", out);
    CHECK(vkti_templates_builtin(&d, &t, VKTI_TEMPLATE_FILE) == VKTI_E_INVALID, "no built-in file set");

    /* the choice: a pure function of the random number; every template reachable, evenly */
    vkti_templates_builtin(&d, &t, VKTI_TEMPLATE_OBJECT);
    int hits[27] = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int out_of_range = 0;
    for (int i = 0; i < 27000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int k = vkti_template_pick(&t, x);
        out_of_range += k < 0 || k > 26;
        hits[k < 0 || k > 26 ? 0 : k]++;
    }
    CHECK(out_of_range == 0, "%d picks out of range", out_of_range);
    int lo = 1 << 30, hi = 0;
    for (int k = 0; k < 27; k++) {
        lo = hits[k] < lo ? hits[k] : lo;
        hi = hits[k] > hi ? hits[k] : hi;
    }
    CHECK(lo > 850 && hi < 1150, "uneven choice: %d..%d per template over 27000", lo, hi);
    CHECK(vkti_template_pick(&t, 0) == 0 && vkti_template_pick(&t, UINT64_MAX) == 26 &&
              vkti_template_pick(&t, 0x1234) == vkti_template_pick(&t, 0x1234),
          "pick edges");
}

static void test_files(void)
{
    vkti_diag d = {0};
    vkti_templates t;
    char out[512];
    /* A1111's subject_filewords.txt (first lines), with a BOM, CRLF, blank lines and indentation */
    const char *file = "\xef\xbb\xbf"
                       "a photo of a [name], [filewords]\r\n"
                       "\r\n"
                       "   a rendering of a [name], [filewords]   \r\n"
                       "\n"
                       "[name] next to another [name]\n"
                       "\t[filewords] by [name]";
    CHECK(vkti_templates_parse(&d, &t, file, strlen(file), "t.txt") == VKTI_OK && t.count == 4 && t.a1111 &&
              t.uses_filewords,
          "parse: %s (%d lines)", d.msg, t.count);
    CHECK(t.count == 4 && !strcmp(t.lines[0], "a photo of a [name], [filewords]") &&
              !strcmp(t.lines[1], "a rendering of a [name], [filewords]") &&
              !strcmp(t.lines[3], "[filewords] by [name]"),
          "stripped lines");
    CHECK(vkti_template_render(&d, &t, 0, "<cat>", "tabby, sofa", out, sizeof out) == VKTI_OK &&
              !strcmp(out, "a photo of a <cat>, tabby, sofa"),
          "render: %s", out);
    CHECK(vkti_template_render(&d, &t, 2, "<cat>", NULL, out, sizeof out) == VKTI_OK &&
              !strcmp(out, "<cat> next to another <cat>"),
          "every [name]: %s", out);
    /* A1111 replaces [filewords] first: a caption's own [name] becomes the token */
    CHECK(vkti_template_render(&d, &t, 3, "<cat>", "a drawing of [name]", out, sizeof out) == VKTI_OK &&
              !strcmp(out, "a drawing of <cat> by <cat>"),
          "caption's [name]: %s", out);
    CHECK(vkti_template_render(&d, &t, 0, "<cat>", NULL, out, sizeof out) == VKTI_E_INVALID &&
              strstr(d.msg, "caption"),
          "[filewords] without a caption: %s", d.msg);
    CHECK(vkti_template_render(&d, &t, 0, "<cat>", "", out, sizeof out) == VKTI_OK && !strcmp(out, "a photo of a <cat>, "),
          "empty caption: %s", out);
    char big[6000];
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK(vkti_template_render(&d, &t, 0, "<cat>", big, out, sizeof out) == VKTI_E_INVALID && strstr(d.msg, "longer"),
          "a prompt that does not fit: %s", d.msg);
    vkti_templates_free(&t);

    const char *nofw = "a photo of [name]\n";
    CHECK(vkti_templates_parse(&d, &t, nofw, strlen(nofw), "n.txt") == VKTI_OK && !t.uses_filewords, "no filewords");
    vkti_templates_free(&t);

    static const struct { const char *text; size_t len; const char *needle; } bad[] = {
        {"picture\n", 0, "line 1 (\"picture\") has no [name]"},     /* A1111's none.txt */
        {"a [name]\nthe [Name]\n", 0, "line 2"},
        {"", 0, "no templates"},
        {" \n\r\n\t\n", 0, "no templates"},
        {"\xef\xbb\xbf", 0, "no templates"},
        {"a [name]\x01\n", 0, "control character 0x01"},
        {"a [name]\n\xff\xfe\n", 0, "line 2 is not valid UTF-8"},
        {"a [name] \xe2\x82\n", 0, "not valid UTF-8"},     /* cut multi-byte sequence */
        {"a [name] \xc0\x80\n", 0, "not valid UTF-8"},     /* overlong NUL */
        {"a [name]\0b\n", 10, "NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        int rc = vkti_templates_parse(&d, &t, bad[i].text, len, "bad.txt");
        CHECK(rc == VKTI_E_FORMAT && strstr(d.msg, bad[i].needle) && strstr(d.msg, "bad.txt"),
              "case %zu: rc %d '%s'", i, rc, d.msg);
        if (rc == VKTI_OK)
            vkti_templates_free(&t);
    }
    /* size limits: a long line, too many lines, too large a file */
    size_t n = VKTI_TEMPLATE_LINE_MAX + 10;
    char *line = malloc(n + 1);
    memset(line, 'a', n);
    memcpy(line, "[name]", 6);
    line[n] = 0;
    CHECK(vkti_templates_parse(&d, &t, line, n, "long.txt") == VKTI_E_FORMAT && strstr(d.msg, "line 1 is"),
          "long line: %s", d.msg);
    free(line);
    size_t lines = VKTI_TEMPLATE_MAX_LINES + 1, k = 0;
    char *many = malloc(lines * 9 + 1);
    for (size_t i = 0; i < lines; i++)
        k += (size_t)sprintf(many + k, "a [name]\n");
    CHECK(vkti_templates_parse(&d, &t, many, k, "many.txt") == VKTI_E_FORMAT && strstr(d.msg, "more than"),
          "too many lines: %s", d.msg);
    k -= 9;
    CHECK(vkti_templates_parse(&d, &t, many, k, "many.txt") == VKTI_OK && t.count == VKTI_TEMPLATE_MAX_LINES,
          "the most lines: %s", d.msg);
    vkti_templates_free(&t);
    free(many);
    size_t huge = VKTI_TEMPLATE_FILE_MAX + 1;
    char *h = malloc(huge);
    memset(h, '\n', huge);
    CHECK(vkti_templates_parse(&d, &t, h, huge, "huge.txt") == VKTI_E_FORMAT && strstr(d.msg, "more than"),
          "huge file: %s", d.msg);
    free(h);
    CHECK(vkti_templates_load(&d, &t, "/nonexistent/t.txt") == VKTI_E_IO && strstr(d.msg, "template file"),
          "missing file: %s", d.msg);
}

static void test_captions(void)
{
    static const struct { const char *path, *want; } names[] = {
        {"00012-a cat.png", "a cat"},
        {"pictures/123 - x.jpg", "- x"},     /* ^[-\d]+\s* stops at the dash after the space */
        {"2023-01-01 sunset.jpeg", "sunset"},
        {"2023-01-01.png", ""},
        {"C:\\imgs\\5-dog.webp", "dog"},
        {"dir.v2/image", "image"},
        {"a.b.c.jpg", "a.b.c"},
        {".hidden.png", ".hidden"},
        {"..png", "..png"},                  /* splitext ignores leading dots */
        {"tabby cat", "tabby cat"},
        {"", ""},
    };
    char out[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        vkti_caption_from_filename(names[i].path, out, sizeof out);
        CHECK(!strcmp(out, names[i].want), "'%s' -> '%s', want '%s'", names[i].path, out, names[i].want);
    }
    char tiny[4];
    vkti_caption_from_filename("abcdefgh.png", tiny, sizeof tiny);
    CHECK(!strcmp(tiny, "abc"), "truncated to the buffer: '%s'", tiny);

    vkti_diag d = {0};
    const char *txt = "\xef\xbb\xbf  tabby cat,\r\n  sitting\ton a  sofa \n\n";
    CHECK(vkti_caption_clean(&d, txt, strlen(txt), "c.txt", out, sizeof out) == VKTI_OK &&
              !strcmp(out, "tabby cat, sitting on a sofa"),
          "clean: '%s' %s", out, d.msg);
    CHECK(vkti_caption_clean(&d, "", 0, "c.txt", out, sizeof out) == VKTI_OK && !strcmp(out, ""), "empty caption");
    CHECK(vkti_caption_clean(&d, "a\0b", 3, "c.txt", out, sizeof out) == VKTI_E_FORMAT && strstr(d.msg, "NUL"), "NUL");
    CHECK(vkti_caption_clean(&d, "caf\xe9", 4, "c.txt", out, sizeof out) == VKTI_E_FORMAT && strstr(d.msg, "UTF-8"),
          "Latin-1 caption: %s", d.msg);
    CHECK(vkti_caption_clean(&d, "a\x1b[31m", 7, "c.txt", out, sizeof out) == VKTI_E_FORMAT, "escape sequence");
    CHECK(vkti_caption_clean(&d, "0123456789", 10, "c.txt", tiny, sizeof tiny) == VKTI_E_FORMAT && tiny[3] == 0,
          "caption longer than the buffer");
    char *longc = malloc(VKTI_CAPTION_MAX + 10);
    memset(longc, 'x', VKTI_CAPTION_MAX + 10);
    char *big = malloc(VKTI_CAPTION_MAX * 2);
    CHECK(vkti_caption_clean(&d, longc, VKTI_CAPTION_MAX + 10, "c.txt", big, VKTI_CAPTION_MAX * 2) == VKTI_E_FORMAT &&
              strstr(d.msg, "longer than"),
          "caption over the limit: %s", d.msg);
    CHECK(vkti_caption_clean(&d, longc, VKTI_CAPTION_MAX - 1, "c.txt", big, VKTI_CAPTION_MAX * 2) == VKTI_OK,
          "caption at the limit: %s", d.msg);
    free(longc);
    free(big);

    /* beside real files */
    const char *bd = getenv("VKTI_BUILD_DIR");
    char dir[512], p[700];
    snprintf(dir, sizeof dir, "%s/test-templates-%ld", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    CHECK(vkti_mkdir_p(&d, dir) == VKTI_OK, "%s", d.msg);
    snprintf(p, sizeof p, "%s/img1.png", dir);
    vkti_file_write_atomic(&d, p, "png", 3);
    snprintf(p, sizeof p, "%s/img1.txt", dir);
    vkti_file_write_atomic(&d, p, "a tabby\ncat\n", 12);
    snprintf(p, sizeof p, "%s/0002-black dog.jpg", dir);
    vkti_file_write_atomic(&d, p, "jpg", 3);
    snprintf(p, sizeof p, "%s/bad.png", dir);
    vkti_file_write_atomic(&d, p, "png", 3);
    snprintf(p, sizeof p, "%s/bad.txt", dir);
    vkti_file_write_atomic(&d, p, "\xff\xff", 2);
    int from_txt = -1;
    snprintf(p, sizeof p, "%s/img1.png", dir);
    CHECK(vkti_caption_for_image(&d, p, out, sizeof out, &from_txt) == VKTI_OK && from_txt == 1 &&
              !strcmp(out, "a tabby cat"),
          "caption from img1.txt: '%s' %s", out, d.msg);
    snprintf(p, sizeof p, "%s/0002-black dog.jpg", dir);
    CHECK(vkti_caption_for_image(&d, p, out, sizeof out, &from_txt) == VKTI_OK && from_txt == 0 &&
              !strcmp(out, "black dog"),
          "caption from the name: '%s'", out);
    snprintf(p, sizeof p, "%s/bad.png", dir);
    CHECK(vkti_caption_for_image(&d, p, out, sizeof out, &from_txt) == VKTI_E_FORMAT && strstr(d.msg, "bad.txt"),
          "bad caption file named: %s", d.msg);
}

int main(void)
{
    test_builtin();
    test_files();
    test_captions();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
