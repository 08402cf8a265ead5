/* stb.c — the one compilation unit holding the implementations of the distribution's stb headers
 * (libstb-dev): image decoding (stb_image, also used for its zlib/deflate decoder), PNG writing
 * (stb_image_write) and resizing (stb_image_resize). Compiled without warnings: it is not our code. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_WARNINGS
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
