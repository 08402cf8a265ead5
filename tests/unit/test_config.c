/* test_config.c — the training configuration: defaults, the setter on every kind of value, the
 * command-line form, JSON config files (valid and hostile), the checks of finish(), the effective
 * configuration's JSON round trip, the resume fingerprint and comparison, and the help table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkti/train_config.h"
#include "check.h"

static char err[VKTI_TRAIN_ERR_MAX];

static const char *get(const vkti_train_config *c, const char *key)
{
    static char buf[2048];
    vkti_train_config_get(c, key, buf, sizeof buf);
    return buf;
}

static void minimal(vkti_train_config *c)
{
    vkti_train_config_init(c);
    vkti_train_config_set(c, "model", "models/sd15", err, sizeof err);
    vkti_train_config_set(c, "data", "pictures/cat", err, sizeof err);
    vkti_train_config_set(c, "token", "<my-cat>", err, sizeof err);
}

static void test_defaults(void)
{
    vkti_train_config c;
    vkti_train_config_init(&c);
    CHECK(!strcmp(get(&c, "learning_rate"), "0.0001") && !strcmp(get(&c, "steps"), "5000") &&
              !strcmp(get(&c, "lr_schedule"), "constant") && !strcmp(get(&c, "lr_warmup_steps"), "500") &&
              !strcmp(get(&c, "batch_size"), "1") && !strcmp(get(&c, "resolution"), "512") &&
              !strcmp(get(&c, "template"), "object") && !strcmp(get(&c, "optimizer"), "adamw") &&
              !strcmp(get(&c, "adam_epsilon"), "1e-08") && !strcmp(get(&c, "weight_decay"), "0.01") &&
              !strcmp(get(&c, "format"), "diffusers,kohya") && !strcmp(get(&c, "precision"), "fp16") &&
              !strcmp(get(&c, "init_text"), "*") && !strcmp(get(&c, "flip_prob"), "0.5") &&
              !strcmp(get(&c, "repeats"), "100") && !strcmp(get(&c, "scale_lr"), "false"),
          "defaults");
    c.optimizer = VKTI_OPTIMIZER_SGD;
    CHECK(vkti_train_config_weight_decay(&c) == 0.0 && !strcmp(get(&c, "weight_decay"), "0"), "SGD weight decay");
    c.seed = 77;
    CHECK(vkti_train_config_preview_seed(&c) == 77, "preview seed follows the seed");
    CHECK(vkti_train_config_get(&c, "no_such_key", (char[8]){0}, 8) == VKTI_E_INVALID, "get unknown key");

    /* required options, named */
    vkti_train_config_init(&c);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "--model"), "%s", err);
    vkti_train_config_set(&c, "model", "m", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "--data"), "%s", err);
    vkti_train_config_set(&c, "data", "d", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "--token"), "%s", err);
    vkti_train_config_set(&c, "token", "<t>", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_OK, "%s", err);
    CHECK(c.weight_decay == 0.01 && c.preview_seed == 0, "finish fills derived defaults");
}

typedef struct set_case {
    const char *key, *value;
    int ok;
    const char *needle; /* failing: in the message; passing: what get() returns */
} set_case;

static void test_set(void)
{
    static const set_case cases[] = {
        /* numbers */
        {"learning_rate", "5e-4", 1, "0.0005"},
        {"learning_rate", " 0.005 ", 1, "0.005"},
        {"learning_rate", "nan", 0, "not a finite number"},
        {"learning_rate", "NaN", 0, "not a finite number"},
        {"learning_rate", "inf", 0, "not a finite number"},
        {"learning_rate", "-1e-4", 0, "above 0"},
        {"learning_rate", "0", 0, "above 0"},
        {"learning_rate", "5e3", 0, "far too large"},
        {"learning_rate", "1e999", 0, "not a finite number"},
        {"learning_rate", "0x1p-10", 0, "not a finite number"},
        {"learning_rate", "", 0, "not a finite number"},
        {"learning_rate", "5e-4abc", 0, "not a finite number"},
        {"learning_rate", "0.005:100, 1e-3:1000, 1e-5", 1, "0.005:100, 1e-3:1000, 1e-5"},
        {"learning_rate", "0.005:100, 1e-3:50", 0, "steps must increase"},
        {"learning_rate", "0.005:100,", 0, "ends with ','"},
        {"adam_beta1", "1", 0, "outside"},
        {"adam_beta1", "0", 1, "0"},
        {"adam_beta2", "-0.1", 0, "outside"},
        {"adam_epsilon", "0", 0, "outside"},
        {"flip_prob", "1", 1, "1"},
        {"flip_prob", "1.5", 0, "outside"},
        {"weight_decay", "-0.01", 0, "outside"},
        {"min_snr_gamma", "5", 1, "5"},
        {"max_grad_norm", "1e7", 0, "outside"},
        /* whole numbers */
        {"steps", "0", 0, "outside 1"},
        {"steps", "-5", 0, "outside"},
        {"steps", "1000", 1, "1000"},
        {"steps", "1e3", 0, "whole number"},
        {"steps", "10.0", 0, "whole number"},
        {"steps", "99999999999999999999", 0, "whole number"},
        {"steps", "100000001", 0, "outside"},
        {"steps", "+7", 1, "7"},
        {"steps", "", 0, "whole number"},
        {"resolution", "513", 0, "multiple of 8 (try 512)"},
        {"resolution", "768", 1, "768"},
        {"resolution", "32", 0, "outside"},
        {"resolution", "8192", 0, "outside"},
        {"num_vectors", "0", 0, "outside"},
        {"num_vectors", "76", 0, "outside"},
        {"num_vectors", "4", 1, "4"},
        {"batch_size", "0", 0, "outside"},
        {"seed", "-1", 0, "outside"},
        {"seed", "9007199254740991", 1, "9007199254740991"},
        {"seed", "9007199254740992", 0, "outside"},
        {"preview_seed", "-1", 1, "0"},
        {"log_every", "0", 0, "outside"},
        /* switches */
        {"scale_lr", "true", 1, "true"},
        {"scale_lr", "off", 1, "false"},
        {"scale_lr", "maybe", 0, "true or false"},
        /* choices */
        {"lr_schedule", "cosine", 1, "cosine"},
        {"lr_schedule", "Cosine", 0, "not one of constant, constant_with_warmup, linear, cosine"},
        {"lr_schedule", "polynomial", 0, "not one of"},
        {"optimizer", "sgd", 1, "sgd"},
        {"optimizer", "lion", 0, "adamw, adam, sgd"},
        {"crop", "random", 1, "random"},
        {"precision", "bf16", 0, "fp16, fp32"},
        {"prediction_type", "v_prediction", 1, "v_prediction"},
        /* text */
        {"token", "<my-cat>", 1, "<my-cat>"},
        {"token", "", 0, "is empty"},
        {"token", "my cat", 0, "contains a space"},
        {"token", "a\tb", 0, "control character"},
        {"token", "\xff\xfe", 0, "not UTF-8"},
        {"token", "\xc0\xaf", 0, "not UTF-8"},           /* overlong '/' */
        {"token", "\xed\xa0\x80", 0, "not UTF-8"},       /* a surrogate */
        {"token", "<кошка>", 1, "<кошка>"},
        {"token", "<0123456789012345678901234567890123456789012345678901234567>", 0, "at most 56"},
        {"init_text", "  ", 0, "is empty"},
        {"init_text", "tabby cat", 1, "tabby cat"},
        {"preview_prompt", "a photo of <my-cat>\non a sofa", 0, "control character"},
        /* paths, template, formats, sizes */
        {"out", "runs/cat", 1, "runs/cat"},
        {"out", "a\nb", 0, "control character"},
        {"template", "style", 1, "style"},
        {"template", "templates/subject_filewords.txt", 1, "templates/subject_filewords.txt"},
        {"template", "", 0, "is empty"},
        {"format", "all", 1, "diffusers,kohya,a1111"},
        {"format", " a1111 ", 1, "a1111"},
        {"format", "kohya,diffusers", 1, "diffusers,kohya"},
        {"format", "ckpt", 0, "'ckpt' is not a format"},
        {"format", "kohya,", 0, "'' is not a format"},
        {"max_vram", "6G", 1, "6442450944"},
        {"max_vram", "6 GiB", 1, "6442450944"},
        {"max_vram", "1.5g", 1, "1610612736"},
        {"max_vram", "512MB", 1, "536870912"},
        {"max_vram", "0", 1, "0"},
        {"max_vram", "6X", 0, "not a size"},
        {"max_vram", "-1G", 0, "not a size"},
        {"max_vram", "G", 0, "not a size"},
        {"max_vram", "99999999T", 0, "not a size"},
        {"no_such_option", "1", 0, "unknown option"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const set_case *x = &cases[i];
        vkti_train_config c;
        vkti_train_config_init(&c);
        err[0] = 0;
        int rc = vkti_train_config_set(&c, x->key, x->value, err, sizeof err);
        if (x->ok)
            CHECK(rc == VKTI_OK && !strcmp(get(&c, x->key), x->needle), "%s = '%s': rc %d (%s), reads back '%s'", x->key,
                  x->value, rc, err, get(&c, x->key));
        else
            CHECK(rc == VKTI_E_INVALID && strstr(err, x->needle) &&
                      (!strcmp(x->key, "no_such_option") || strstr(err, x->key)),
                  "%s = '%s': rc %d, message '%s'", x->key, x->value, rc, err);
    }
    /* a refused value leaves the old one */
    vkti_train_config c;
    vkti_train_config_init(&c);
    vkti_train_config_set(&c, "steps", "0", err, sizeof err);
    CHECK(c.steps == 5000, "refused value changed the field");
    /* the longest path that fits, and one byte more */
    char longp[VKTI_TRAIN_PATH_MAX + 1];
    memset(longp, 'p', sizeof longp);
    longp[VKTI_TRAIN_PATH_MAX - 1] = 0;
    CHECK(vkti_train_config_set(&c, "model", longp, err, sizeof err) == VKTI_OK, "longest path: %s", err);
    longp[VKTI_TRAIN_PATH_MAX - 1] = 'p';
    longp[VKTI_TRAIN_PATH_MAX] = 0;
    CHECK(vkti_train_config_set(&c, "model", longp, err, sizeof err) == VKTI_E_INVALID && strstr(err, "longer"),
          "too long a path: %s", err);
    /* a tiny error buffer is not overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    vkti_train_config_set(&c, "steps", "zero", small, 5);
    CHECK(small[4] == 0 && small[5] == 'x', "error buffer overrun");
}

static void test_args(void)
{
    vkti_train_config c;
    vkti_train_config_init(&c);
    CHECK(vkti_train_config_apply_arg(&c, "--lr", "5e-4", err, sizeof err) == 2 && c.learning_rate == 5e-4, "--lr X");
    CHECK(vkti_train_config_apply_arg(&c, "--lr=0.001", "ignored", err, sizeof err) == 1 && c.learning_rate == 0.001,
          "--lr=X");
    CHECK(vkti_train_config_apply_arg(&c, "--scale-lr", "--steps", err, sizeof err) == 1 && c.scale_lr == 1,
          "--scale-lr");
    CHECK(vkti_train_config_apply_arg(&c, "--no-scale-lr", NULL, err, sizeof err) == 1 && c.scale_lr == 0,
          "--no-scale-lr");
    CHECK(vkti_train_config_apply_arg(&c, "--scale-lr=yes", NULL, err, sizeof err) == 1 && c.scale_lr == 1,
          "--scale-lr=yes");
    CHECK(vkti_train_config_apply_arg(&c, "--no-scale-lr=true", NULL, err, sizeof err) == VKTI_E_INVALID,
          "--no-X=value");
    CHECK(vkti_train_config_apply_arg(&c, "--scale-lr=2", NULL, err, sizeof err) == VKTI_E_INVALID, "--X=2");
    CHECK(vkti_train_config_apply_arg(&c, "--lr", NULL, err, sizeof err) == VKTI_E_INVALID && strstr(err, "needs a value"),
          "--lr at the end: %s", err);
    CHECK(vkti_train_config_apply_arg(&c, "--token", "--data", err, sizeof err) == VKTI_E_INVALID &&
              strstr(err, "--token=VALUE"),
          "--token --data: %s", err);
    CHECK(vkti_train_config_apply_arg(&c, "--token=--odd", NULL, err, sizeof err) == 1 && !strcmp(c.token, "--odd"),
          "--token=--odd");
    CHECK(vkti_train_config_apply_arg(&c, "--lr", "-1e-4", err, sizeof err) == VKTI_E_INVALID && strstr(err, "above 0"),
          "negative rate: %s", err);
    CHECK(vkti_train_config_apply_arg(&c, "--steps", "0", err, sizeof err) == VKTI_E_INVALID && strstr(err, "--steps"),
          "zero steps");
    CHECK(vkti_train_config_apply_arg(&c, "--template", "style", err, sizeof err) == 2 &&
              c.template_kind == VKTI_TEMPLATE_STYLE,
          "--template style");
    CHECK(vkti_train_config_apply_arg(&c, "-v", NULL, err, sizeof err) == 0, "-v is not ours");
    CHECK(vkti_train_config_apply_arg(&c, "--config", "x.json", err, sizeof err) == 0, "--config is not ours");
    CHECK(vkti_train_config_apply_arg(&c, "--lrx", "1", err, sizeof err) == 0, "unknown flag");
    CHECK(vkti_train_config_apply_arg(&c, "learning_rate", "1", err, sizeof err) == 0, "a key is not a flag");
    CHECK(vkti_train_config_apply_arg(&c, "--no-lr", "1", err, sizeof err) == 0, "--no- of a non-switch");
    CHECK(vkti_train_config_apply_arg(&c, "--", NULL, err, sizeof err) == 0, "--");

    int neg = -1;
    const vkti_train_option *o = vkti_train_option_find("--no-tensorboard", &neg);
    CHECK(o && !strcmp(o->key, "tensorboard") && neg == 1 && !o->metavar, "find --no-tensorboard");
    o = vkti_train_option_find("learning_rate", &neg);
    CHECK(o && !strcmp(o->flag, "--lr") && neg == 0 && o->resume_fixed, "find by key");
    CHECK(!vkti_train_option_find("--no-such", NULL), "find unknown");
    /* every key and flag is unique, every option is in the help */
    char *help = vkti_train_options_help();
    int dup = 0, missing = 0;
    for (int i = 0; i < vkti_train_option_count(); i++) {
        const vkti_train_option *a = vkti_train_option_at(i);
        for (int j = i + 1; j < vkti_train_option_count(); j++) {
            const vkti_train_option *b = vkti_train_option_at(j);
            dup += !strcmp(a->key, b->key) || !strcmp(a->flag, b->flag);
        }
        char k[80];
        snprintf(k, sizeof k, "[%s]", a->key);
        missing += !help || !strstr(help, a->flag) || !strstr(help, k) || !a->help[0];
    }
    CHECK(dup == 0 && missing == 0 && vkti_train_option_at(-1) == NULL &&
              vkti_train_option_at(vkti_train_option_count()) == NULL,
          "option table: %d duplicates, %d missing from the help", dup, missing);
    CHECK(help && strstr(help, "--lr X") && strstr(help, "(default: 0.0001)") && strstr(help, "--no-scale-lr"),
          "help text");
    free(help);
}

typedef struct json_case {
    const char *json;
    const char *needle;
} json_case;

static void test_json(void)
{
    const char *good =
        "{\n"
        "  \"model\": \"models/sd15\", \"data\": \"pictures/cat\", \"token\": \"<my-cat>\",\n"
        "  \"init_text\": \"cat\", \"num_vectors\": 2, \"template\": \"object\", \"resolution\": 512,\n"
        "  \"learning_rate\": 5e-3, \"steps\": 3000, \"lr_schedule\": \"cosine\", \"lr_warmup_steps\": 100,\n"
        "  \"scale_lr\": true, \"batch_size\": 2, \"grad_accum\": 2, \"optimizer\": \"adam\",\n"
        "  \"max_vram\": \"6G\", \"format\": \"all\", \"seed\": 1234, \"flip_prob\": 0, \"min_snr_gamma\": 5.0\n"
        "}\n";
    vkti_train_config a, b;
    vkti_train_config_init(&a);
    CHECK(vkti_train_config_load_json(&a, good, strlen(good), "good.json", err, sizeof err) == VKTI_OK, "good: %s",
          err);
    vkti_train_config_init(&b);
    const char *argv[] = {"--model", "models/sd15", "--data", "pictures/cat", "--token", "<my-cat>", "--init", "cat",
                          "--num-vectors", "2", "--resolution", "512", "--lr", "5e-3", "--steps", "3000",
                          "--lr-schedule", "cosine", "--lr-warmup", "100", "--scale-lr", "--batch", "2", "--grad-accum",
                          "2", "--optimizer", "adam", "--max-vram", "6G", "--format", "all", "--seed", "1234",
                          "--flip-prob", "0", "--min-snr-gamma", "5"};
    int argc = (int)(sizeof argv / sizeof argv[0]);
    for (int i = 0; i < argc;) {
        int used = vkti_train_config_apply_arg(&b, argv[i], i + 1 < argc ? argv[i + 1] : NULL, err, sizeof err);
        CHECK(used > 0, "%s: %d %s", argv[i], used, err);
        i += used > 0 ? used : 1;
    }
    CHECK(!memcmp(&a, &b, sizeof a), "the JSON file and the same flags give different configurations");
    CHECK(a.max_vram == 6ull << 30 && a.formats == 7 && a.optimizer == VKTI_OPTIMIZER_ADAM, "json values");
    /* flags after the file override it */
    CHECK(vkti_train_config_apply_arg(&a, "--steps", "10", err, sizeof err) == 2 && a.steps == 10, "override");

    static const json_case bad[] = {
        {"", "not valid JSON (line 1, column 1)"},
        {"{\"steps\": 10,}", "not valid JSON"},
        {"{\n  \"steps\": 10\n  \"seed\": 1\n}", "line 3"},
        {"{\"steps\": NaN}", "not valid JSON"},
        {"{\"steps\": 10} {\"seed\": 1}", "text after the JSON object"},
        {"[{\"steps\": 10}]", "top level must be a JSON object"},
        {"42", "top level must be a JSON object"},
        {"{\"learnig_rate\": 1e-4}", "unknown key \"learnig_rate\" (did you mean \"learning_rate\"?)"},
        {"{\"xyzzy\": 1}", "unknown key \"xyzzy\""},
        {"{\"Steps\": 10}", "unknown key \"Steps\" (did you mean \"steps\"?)"},
        {"{\"steps\": 10, \"steps\": 20}", "\"steps\" appears twice"},
        {"{\"steps\": \"500\"}", "\"steps\" (--steps) must be a whole number"},
        {"{\"steps\": 10.5}", "must be a whole number"},
        {"{\"steps\": 1e300}", "must be a whole number"},
        {"{\"steps\": 0}", "steps (--steps): 0 is outside 1"},
        {"{\"steps\": -3}", "outside"},
        {"{\"steps\": null}", "must be a whole number"},
        {"{\"steps\": true}", "must be a whole number"},
        {"{\"learning_rate\": -1e-4}", "learning_rate (--lr): -0.0001 must be above 0"},
        {"{\"learning_rate\": 1e999}", "must be a number or a string"},
        {"{\"learning_rate\": \"nan\"}", "not a finite number"},
        {"{\"learning_rate\": [0.1]}", "must be a number or a string"},
        {"{\"learning_rate\": {\"value\": 0.1}}", "must be a number or a string"},
        {"{\"resolution\": 500}", "not a multiple of 8"},
        {"{\"scale_lr\": 1}", "\"scale_lr\" (--scale-lr) must be true or false"},
        {"{\"scale_lr\": \"true\"}", "must be true or false"},
        {"{\"adam_beta1\": \"0.9\"}", "must be a number"},
        {"{\"token\": 5}", "\"token\" (--token) must be a string"},
        {"{\"token\": \"a\\u0000b\"}", "\\u0000"},
        {"{\"token\": \"a\\tb\"}", "control character"},
        {"{\"token\": \"\xff\"}", "not UTF-8"},
        {"{\"optimizer\": \"Adam\"}", "not one of adamw, adam, sgd"},
        {"{\"max_vram\": \"lots\"}", "not a size"},
        {"{\"max_vram\": true}", "must be a number or a string"},
        {"{\"format\": [\"kohya\"]}", "must be a string"},
        {"{\"config\": \"other.json\"}", "unknown key \"config\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vkti_train_config c;
        vkti_train_config_init(&c);
        err[0] = 0;
        int rc = vkti_train_config_load_json(&c, bad[i].json, strlen(bad[i].json), "bad.json", err, sizeof err);
        CHECK(rc < 0 && strstr(err, bad[i].needle) && !strncmp(err, "bad.json: ", 10), "case %zu %s: rc %d '%s'", i,
              bad[i].json, rc, err);
    }
    /* a NUL byte inside the text, deep nesting, a huge file, an enormous string */
    vkti_train_config c;
    vkti_train_config_init(&c);
    CHECK(vkti_train_config_load_json(&c, "{\"steps\": 1\0}", 13, "nul.json", err, sizeof err) == VKTI_E_FORMAT &&
              strstr(err, "NUL byte"),
          "NUL byte: %s", err);
    size_t n = 200000;
    char *deep = malloc(n * 2 + 16);
    size_t k = 0;
    k += (size_t)sprintf(deep, "{\"steps\": ");
    for (size_t i = 0; i < n; i++)
        deep[k++] = '[';
    for (size_t i = 0; i < n; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    CHECK(vkti_train_config_load_json(&c, deep, k, "deep.json", err, sizeof err) == VKTI_E_FORMAT, "deep nesting: %s",
          err);
    free(deep);
    size_t big = (1u << 20) + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    CHECK(vkti_train_config_load_json(&c, huge, big, "huge.json", err, sizeof err) == VKTI_E_FORMAT &&
              strstr(err, "more than"),
          "huge file: %s", err);
    size_t sl = 100000;
    char *longs = malloc(sl + 32);
    k = (size_t)sprintf(longs, "{\"out\": \"");
    memset(longs + k, 'a', sl);
    k += sl;
    k += (size_t)sprintf(longs + k, "\"}");
    CHECK(vkti_train_config_load_json(&c, longs, k, "long.json", err, sizeof err) == VKTI_E_INVALID &&
              strstr(err, "\"out\""),
          "long string: %s", err);
    free(longs);
    free(huge);
    CHECK(vkti_train_config_load_json_file(&c, "/nonexistent/vkti.json", err, sizeof err) == VKTI_E_IO &&
              strstr(err, "/nonexistent/vkti.json"),
          "missing file: %s", err);
}

static void test_finish(void)
{
    static const struct { const char *key, *value, *needle; } bad[] = {
        {"out", "models/sd15", "same as model"},
        {"out", "./models//sd15/", "same as model"},
        {"out", "models/x/../sd15", "same as model"},
        {"out", "pictures/cat", "same as data"},
        {"out", "pictures/cat/out", "inside data"},
        {"out", "./pictures/cat/./runs/1", "inside data"},
        {"tokenizer", "vkti-out", "same as tokenizer"},
        {"template", "vkti-out", "same as template"},
        {"max_vram", "6", "less than 64 MiB"},
        {"max_vram", "1M", "less than 64 MiB"},
        {"lr_schedule", "piecewise", "needs AUTOMATIC1111 rates"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vkti_train_config c;
        minimal(&c);
        CHECK(vkti_train_config_set(&c, bad[i].key, bad[i].value, err, sizeof err) == VKTI_OK, "%s", err);
        CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, bad[i].needle),
              "%s = %s: '%s'", bad[i].key, bad[i].value, err);
    }
    vkti_train_config c;
    minimal(&c);
    vkti_train_config_set(&c, "out", "pictures/cat-runs", err, sizeof err); /* a sibling, not inside */
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_OK, "sibling folder: %s", err);
    minimal(&c);
    vkti_train_config_set(&c, "data", ".", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "inside data"),
          "out inside data '.': %s", err);
    minimal(&c);
    vkti_train_config_set(&c, "out", "../elsewhere", err, sizeof err);
    vkti_train_config_set(&c, "data", ".", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_OK, "out outside '.': %s", err);

    /* piecewise rates: schedule conflicts and their length against the run */
    minimal(&c);
    vkti_train_config_set(&c, "learning_rate", "0.005:100, 1e-3:1000, 1e-5", err, sizeof err);
    vkti_train_config_set(&c, "lr_schedule", "cosine", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "cannot be combined"),
          "piecewise + cosine: %s", err);
    minimal(&c);
    vkti_train_config_set(&c, "learning_rate", "0.005:100, 1e-3:1000", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_E_INVALID && strstr(err, "end at step 1000") &&
              strstr(err, "--steps 1000"),
          "piecewise shorter than the run: %s", err);
    vkti_train_config_set(&c, "steps", "1000", err, sizeof err);
    CHECK(vkti_train_config_finish(&c, err, sizeof err) == VKTI_OK && c.lr_schedule == VKTI_LR_PIECEWISE,
          "piecewise as long as the run: %s", err);
    /* a number after a string goes back to a plain rate */
    vkti_train_config_set(&c, "learning_rate", "1e-4", err, sizeof err);
    c.lr_schedule = VKTI_LR_CONSTANT;
    CHECK(!c.lr_piecewise[0] && vkti_train_config_finish(&c, err, sizeof err) == VKTI_OK, "number after string");
}

static void test_roundtrip_and_resume(void)
{
    vkti_train_config a;
    minimal(&a);
    const char *sets[][2] = {{"learning_rate", "0.005:100, 1e-3:1000, 1e-5"}, {"template", "my templates/t.txt"},
                             {"preview_prompt", "a \"quoted\" \\ prompt <my-cat> — ünïcödé"},
                             {"seed", "9007199254740991"}, {"adam_epsilon", "1e-7"}, {"flip_prob", "0.1"},
                             {"max_vram", "12G"}, {"format", "a1111"}, {"tensorboard", "false"},
                             {"adam_beta2", "0.99900000000000011"} /* needs all 17 digits */};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        CHECK(vkti_train_config_set(&a, sets[i][0], sets[i][1], err, sizeof err) == VKTI_OK, "%s", err);
    CHECK(vkti_train_config_finish(&a, err, sizeof err) == VKTI_OK, "%s", err);
    char *json = vkti_train_config_to_json(&a);
    CHECK(json && strstr(json, "\"learning_rate\":\t\"0.005:100, 1e-3:1000, 1e-5\"") &&
              strstr(json, "\"seed\":\t9007199254740991") && strstr(json, "\"lr_schedule\":\t\"piecewise\""),
          "json: %s", json ? json : "(null)");
    vkti_train_config b;
    vkti_train_config_init(&b);
    CHECK(vkti_train_config_load_json(&b, json, strlen(json), "effective.json", err, sizeof err) == VKTI_OK,
          "reload: %s", err);
    CHECK(vkti_train_config_finish(&b, err, sizeof err) == VKTI_OK, "%s", err);
    char *json2 = vkti_train_config_to_json(&b);
    CHECK(json2 && !strcmp(json, json2), "the effective configuration does not survive a round trip");
    CHECK(!memcmp(&a, &b, sizeof a), "round trip changes the struct");
    vkti_free(json);
    vkti_free(json2);

    char fa[17], fb[17];
    vkti_train_config_fingerprint(&a, fa);
    vkti_train_config_fingerprint(&b, fb);
    CHECK(strlen(fa) == 16 && !strcmp(fa, fb), "fingerprints %s %s", fa, fb);
    CHECK(vkti_train_config_check_resume(&a, &b, err, sizeof err) == VKTI_OK, "%s", err);

    /* what may change on resume, and what may not */
    static const struct { const char *key, *value; int fixed; } changes[] = {
        {"out", "elsewhere", 0},          {"save_every", "7", 0},          {"checkpoint_every", "9", 0},
        {"eval_every", "3", 0},           {"preview_prompt", "x <t>", 0},  {"device", "1", 0},
        {"max_vram", "4G", 0},            {"model", "moved/sd15", 0},      {"data", "moved/cat", 0},
        {"log_every", "1", 0},            {"tensorboard", "true", 0},      {"steps", "9000", 0},
        {"sgd_momentum", "0.5", 0},       {"lr_warmup_steps", "3", 0},     {"token", "<other>", 1},
        {"seed", "5", 1},                 {"resolution", "768", 1},        {"batch_size", "2", 1},
        {"precision", "fp32", 1},         {"optimizer", "sgd", 1},         {"adam_beta2", "0.99", 1},
        {"template", "style", 1},         {"min_snr_gamma", "5", 1},       {"num_vectors", "3", 1},
        {"init_text", "dog", 1},          {"learning_rate", "1e-3", 1},
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        vkti_train_config c = a;
        CHECK(vkti_train_config_set(&c, changes[i].key, changes[i].value, err, sizeof err) == VKTI_OK, "%s", err);
        char fc[17];
        vkti_train_config_fingerprint(&c, fc);
        int rc = vkti_train_config_check_resume(&a, &c, err, sizeof err);
        if (changes[i].fixed)
            CHECK(strcmp(fa, fc) && rc == VKTI_E_INVALID && strstr(err, changes[i].key) && strstr(err, "checkpoint"),
                  "changing %s must block resume: %s", changes[i].key, err);
        else
            CHECK(!strcmp(fa, fc) && rc == VKTI_OK, "changing %s must not block resume: %s", changes[i].key, err);
    }
    /* steps matter where the rates depend on them */
    vkti_train_config c = a, d;
    c.lr_piecewise[0] = 0;
    c.lr_schedule = VKTI_LR_COSINE;
    d = c;
    d.steps = c.steps + 1;
    CHECK(vkti_train_config_check_resume(&c, &d, err, sizeof err) == VKTI_E_INVALID && strstr(err, "steps (--steps)"),
          "cosine steps: %s", err);
    d = c;
    d.lr_warmup_steps = 1;
    CHECK(vkti_train_config_check_resume(&c, &d, err, sizeof err) == VKTI_E_INVALID, "cosine warmup");
}

int main(void)
{
    test_defaults();
    test_set();
    test_args();
    test_json();
    test_finish();
    test_roundtrip_and_resume();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
