/* stb.c — the one compilation unit holding the implementations of the distribution's stb headers
 * (libstb-dev): image decoding (stb_image, also used for its zlib/deflate decoder), PNG writing
 * (stb_image_write) and resizing (stb_image_resize). Compiled without warnings: it is not our code.
 *
 * stb_image is configured for hostile files (src/io/image.c checks each file's structure and
 * size first; these are the second line):
 * - only the JPEG, PNG and BMP decoders are compiled (the formats vkti reads): the PSD, TGA, GIF,
 *   HDR, PIC and PNM parsers, with their history of memory-safety bugs, are not in the binary;
 * - STBI_MAX_DIMENSIONS refuses larger headers than vkti reads;
 * - every allocation stb_image makes is capped at VKTI_IMAGE_MAX_STB_ALLOC, so a PNG whose
 *   deflate stream inflates far beyond what its header allows fails instead of exhausting memory.
 *   The allocator is malloc underneath, so decoded pixels can be released with free(). */
#include <stdlib.h>

#include "io/image.h"

static void *vkti_stbi_malloc(size_t n) { return n > VKTI_IMAGE_MAX_STB_ALLOC ? NULL : malloc(n); }
static void *vkti_stbi_realloc(void *p, size_t n) { return n > VKTI_IMAGE_MAX_STB_ALLOC ? NULL : realloc(p, n); }

#define STBI_MALLOC(n) vkti_stbi_malloc(n)
#define STBI_REALLOC(p, n) vkti_stbi_realloc(p, n)
#define STBI_FREE(p) free(p)
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS VKTI_IMAGE_MAX_SIDE
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_WARNINGS
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
