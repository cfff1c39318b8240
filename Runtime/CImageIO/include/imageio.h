// imageio: PNG and JPEG decode/encode from memory, with errors returned instead of longjmp'ed.
//
// libpng and libjpeg report fatal errors by longjmp and, by default, print warnings to stderr
// (libjpeg's default error_exit even calls exit()). Swift cannot catch a longjmp, so these few C
// functions own the setjmp points, silence the libraries, and hand back a status and a message.
#ifndef IMAGEIO_H
#define IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// A decoded 8-bit image: height × width × channels bytes, row-major, channels interleaved.
// channels is 1 (gray), 3 (RGB) or 4 (RGBA). Free `pixels` with imageio_free.
typedef struct {
    int width;
    int height;
    int channels;
    uint8_t *pixels;
} imageio_image;

// Each returns 0 on success, or -1 with a message (NUL-terminated, at most errlen bytes) in err.
int imageio_png_decode(const uint8_t *data, size_t len, imageio_image *out, char *err, size_t errlen);
int imageio_jpeg_decode(const uint8_t *data, size_t len, imageio_image *out, char *err, size_t errlen);

// Encodes an 8-bit image (channels 1, 2, 3 or 4) as PNG into a malloc'ed buffer (*out, *outlen).
int imageio_png_encode(const uint8_t *pixels, int width, int height, int channels,
                       uint8_t **out, size_t *outlen, char *err, size_t errlen);

void imageio_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
