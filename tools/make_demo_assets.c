/* make_demo_assets.c — draws the bundled demo images (assets/demo/) that the CI demo trains an
 * embedding on: one concept, a red ball with a yellow band round its middle, a dark rim and a
 * highlight, standing on varied scenes (sky and ground colours, horizon, a few muted boxes and
 * discs), at varied positions and sizes, with a shadow. Strong colour and shape cues, so a tiny
 * diffusion model can learn it.
 *
 * Deterministic everywhere: integer arithmetic only (16 samples per pixel in 1/8-pixel units,
 * squared distances in 64 bits) and a fixed xorshift generator, so the pixels do not depend on
 * the compiler or the C library.
 *
 * usage: make_demo_assets OUTDIR          write demo_00.png ... demo_07.png
 *        make_demo_assets --check DIR     regenerate in memory and compare with DIR's files'
 *                                         decoded pixels; exit 1 on any difference */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/image.h"

#define SIDE 128
#define COUNT 8

typedef struct rgb {
    int r, g, b;
} rgb;

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* uniform integer in [lo, hi] */
static int range(uint32_t *s, int lo, int hi) { return lo + (int)(next(s) % (uint32_t)(hi - lo + 1)); }

static rgb mix(rgb a, rgb b, int t, int n) /* a + (b - a) * t / n */
{
    return (rgb){a.r + (b.r - a.r) * t / n, a.g + (b.g - a.g) * t / n, a.b + (b.b - a.b) * t / n};
}

/* muted colours only: nothing in the scene competes with the ball's red and yellow */
static const rgb SKY_TOP[6] = {{70, 120, 190}, {150, 170, 190}, {40, 60, 110}, {120, 160, 150}, {170, 150, 180}, {90, 140, 170}};
static const rgb SKY_BOTTOM[6] = {{170, 200, 230}, {210, 215, 220}, {110, 100, 150}, {190, 210, 190}, {220, 205, 200}, {200, 220, 225}};
static const rgb GROUND_NEAR[5] = {{60, 110, 50}, {120, 110, 90}, {90, 90, 95}, {150, 140, 110}, {50, 80, 90}};
static const rgb GROUND_FAR[5] = {{100, 150, 80}, {160, 150, 130}, {130, 130, 135}, {190, 180, 150}, {90, 120, 130}};
static const rgb PROPS[6] = {{70, 90, 140}, {60, 120, 80}, {120, 120, 120}, {110, 90, 70}, {40, 110, 120}, {150, 150, 170}};

typedef struct prop {
    int disc;          /* 1: disc (x, y centre, a radius), 0: box (x, y corner, a x b) */
    int x, y, a, b;    /* in 1/8 pixels */
    rgb color;
} prop;

typedef struct scene {
    rgb sky_top, sky_bottom, near, far;
    int horizon;               /* 1/8 pixels */
    int cx, cy, r;             /* the ball, 1/8 pixels */
    prop props[3];
    int prop_count;
} scene;

static scene make_scene(int k)
{
    uint32_t s = 0x9e3779b9u ^ (uint32_t)(k + 1) * 0x85ebca6bu;
    for (int i = 0; i < 4; i++)
        next(&s);
    scene sc;
    int p = range(&s, 0, 5), g = range(&s, 0, 4);
    sc.sky_top = SKY_TOP[p];
    sc.sky_bottom = SKY_BOTTOM[p];
    sc.near = GROUND_NEAR[g];
    sc.far = GROUND_FAR[g];
    sc.horizon = range(&s, 55, 80) * 8;
    sc.r = range(&s, 16, 34) * 8;
    sc.cx = range(&s, sc.r / 8 + 4, SIDE - sc.r / 8 - 4) * 8;
    /* standing on the ground, below the horizon, wholly in the picture */
    int lo = sc.horizon / 8 + 4 - sc.r / 16, hi = SIDE - sc.r / 8 - 3;
    sc.cy = range(&s, lo < sc.r / 8 + 2 ? sc.r / 8 + 2 : lo, hi) * 8;
    sc.prop_count = range(&s, 1, 3);
    for (int i = 0; i < sc.prop_count; i++) {
        prop *q = &sc.props[i];
        q->disc = range(&s, 0, 1);
        q->x = range(&s, 0, SIDE - 16) * 8;
        q->y = range(&s, 10, sc.horizon / 8 + 10) * 8;
        q->a = range(&s, 6, 22) * 8;
        q->b = range(&s, 8, 40) * 8;
        q->color = PROPS[range(&s, 0, 5)];
    }
    return sc;
}

static int64_t sq(int64_t v) { return v * v; }

/* the colour of the scene at sample point (u, v), 1/8-pixel units */
static rgb sample(const scene *sc, int u, int v)
{
    int h8 = SIDE * 8;
    rgb c = v < sc->horizon ? mix(sc->sky_top, sc->sky_bottom, v, sc->horizon)
                            : mix(sc->far, sc->near, v - sc->horizon, h8 - sc->horizon);
    for (int i = 0; i < sc->prop_count; i++) {
        const prop *q = &sc->props[i];
        int in = q->disc ? sq(u - q->x) + sq(v - q->y) < sq(q->a)
                         : u >= q->x && u < q->x + q->a && v >= q->y && v < q->y + q->b;
        if (in)
            c = q->color;
    }
    /* shadow: an ellipse on the ground under the ball, half dark */
    int64_t rx = sc->r, ry = sc->r / 4, sy = sc->cy + sc->r - sc->r / 8;
    if (sq(u - sc->cx - sc->r / 4) * sq(ry) + sq(v - sy) * sq(rx) < sq(rx) * sq(ry))
        c = mix(c, (rgb){20, 20, 25}, 1, 2);
    /* the ball */
    int64_t d2 = sq(u - sc->cx) + sq(v - sc->cy), r = sc->r;
    if (d2 < sq(r)) {
        rgb red = {215, 25, 30}, yellow = {250, 205, 35}, rim = {95, 10, 15}, shine = {255, 215, 205};
        c = red;
        if (v - sc->cy > -r / 4 && v - sc->cy < r / 4)
            c = yellow;
        if (d2 >= sq(r - r / 10 - 8))
            c = rim;
        if (sq(u - (sc->cx - r * 2 / 5)) + sq(v - (sc->cy - r / 2)) < sq(r / 6))
            c = shine;
    }
    return c;
}

static void render(const scene *sc, uint8_t *px)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            int r = 0, g = 0, b = 0;
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++) {
                    rgb c = sample(sc, x * 8 + i * 2 + 1, y * 8 + j * 2 + 1);
                    r += c.r, g += c.g, b += c.b;
                }
            uint8_t *p = px + ((size_t)y * SIDE + (size_t)x) * 3;
            p[0] = (uint8_t)((r + 8) / 16);
            p[1] = (uint8_t)((g + 8) / 16);
            p[2] = (uint8_t)((b + 8) / 16);
        }
}

int main(int argc, char **argv)
{
    int check = argc == 3 && !strcmp(argv[1], "--check");
    if (argc != 2 && !check) {
        fprintf(stderr, "usage: make_demo_assets OUTDIR | make_demo_assets --check DIR\n");
        return 1;
    }
    const char *dir = argv[argc - 1];
    vkti_diag d = {0};
    if (!check && vkti_mkdir_p(&d, dir) != VKTI_OK) {
        fprintf(stderr, "make_demo_assets: %s\n", d.msg);
        return 1;
    }
    static uint8_t px[SIDE * SIDE * 3];
    int bad = 0;
    for (int k = 0; k < COUNT; k++) {
        scene sc = make_scene(k);
        render(&sc, px);
        char path[4096], desc[160];
        snprintf(path, sizeof path, "%s/demo_%02d.png", dir, k);
        if (check) {
            vkti_image img;
            if (vkti_image_load(&d, &img, path) != VKTI_OK) {
                fprintf(stderr, "make_demo_assets: %s\n", d.msg);
                bad++;
                continue;
            }
            int same = img.width == SIDE && img.height == SIDE && img.channels == 3 && img.depth == 1 &&
                       !memcmp(img.data, px, sizeof px);
            vkti_image_free(&img);
            if (!same) {
                fprintf(stderr, "make_demo_assets: %s differs from what this generator draws\n", path);
                bad++;
            }
            continue;
        }
        snprintf(desc, sizeof desc, "vkti demo concept: a red ball with a yellow band (tools/make_demo_assets.c, "
                 "image %d)", k);
        vkti_png_text text[1] = {{"Description", desc}};
        if (vkti_png_write(&d, path, px, SIDE, SIDE, 3, text, 1) != VKTI_OK) {
            fprintf(stderr, "make_demo_assets: %s\n", d.msg);
            return 1;
        }
        printf("wrote %s\n", path);
    }
    if (check)
        printf("%d of %d demo images match the generator\n", COUNT - bad, COUNT);
    return bad != 0;
}
