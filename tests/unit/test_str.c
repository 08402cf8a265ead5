/* test_str.c — base/str.h: heap copies, printf-formatted strings, numbered file names. */
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "check.h"

static void expect_str(char *got, const char *want, const char *what)
{
    CHECK(got && !strcmp(got, want), "%s: got \"%s\", want \"%s\"", what, got ? got : "(null)", want);
    free(got);
}

int main(void)
{
    expect_str(vkti_str_dup("abc"), "abc", "dup");
    expect_str(vkti_str_dup(""), "", "dup of empty");
    expect_str(vkti_str_dup_n("abcdef", 3), "abc", "dup_n");
    expect_str(vkti_str_fmt("%s-%d", "x", 42), "x-42", "fmt");
    expect_str(vkti_str_numbered("out/cat.png", 0), "out/cat.png", "numbered 0: a copy");
    expect_str(vkti_str_numbered("out/cat.png", 3), "out/cat-3.png", "numbered 3");
    expect_str(vkti_str_numbered("SHEET.PNG", 12), "SHEET-12.PNG", "numbered keeps the extension's case");
    expect_str(vkti_str_numbered("a.b", 2), "a.b", "shorter than an extension: a copy");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
