// JPEG decode through libjpeg(-turbo), from memory. libjpeg's default error handler prints and calls
// exit(); here errors longjmp back and become a message, and warnings (a truncated or corrupt stream
// is reported as a warning, with gray filler data) are errors too: a damaged file never decodes
// silently.
#include "imageio.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    char *err;
    size_t errlen;
} jpeg_ctx;

static void fail(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, msg);
    // The memory source reports running out of data as "Premature end of JPEG file"; say it plainly,
    // in the same words as the PNG side.
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) snprintf(msg, sizeof msg, "file is truncated");
    snprintf(ctx->err, ctx->errlen, "%s", msg);
    longjmp(ctx->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0) fail(cinfo);  // a warning: corrupt data or premature end of file
}

static void silent(j_common_ptr cinfo) { (void)cinfo; }

int imageio_jpeg_decode(const uint8_t *data, size_t len, imageio_image *out, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile cmyk = NULL;
    out->pixels = NULL;
    if (len < 3 || data[0] != 0xFF || data[1] != 0xD8) {
        snprintf(err, errlen, "not a JPEG file (no SOI marker)");
        return -1;
    }
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = fail;
    ctx.pub.emit_message = on_message;
    ctx.pub.output_message = silent;
    ctx.err = err;
    ctx.errlen = errlen;
    if (setjmp(ctx.jmp)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);

    int channels;
    int is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
        channels = 1;
    } else if (is_cmyk) {
        cinfo.out_color_space = JCS_CMYK;
        channels = 3;
    } else {
        cinfo.out_color_space = JCS_RGB;
        channels = 3;
    }
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    int comps = cinfo.output_components;
    if ((double)w * h * comps > (double)(1u << 30)) {
        snprintf(err, errlen, "image too large (over 1 GiB decoded)");
        longjmp(ctx.jmp, 1);
    }
    pixels = malloc(w * h * channels ? w * h * channels : 1);
    if (is_cmyk) cmyk = malloc(w * 4 ? w * 4 : 1);
    if (!pixels || (is_cmyk && !cmyk)) {
        snprintf(err, errlen, "out of memory");
        longjmp(ctx.jmp, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (is_cmyk) {
            JSAMPROW row = cmyk;
            jpeg_read_scanlines(&cinfo, &row, 1);
            // Adobe writes CMYK inverted: R = C·K / 255 on the stored values.
            for (size_t x = 0; x < w; x++) {
                unsigned k = cmyk[4 * x + 3];
                for (int c = 0; c < 3; c++) pixels[(y * w + x) * 3 + c] = (uint8_t)((cmyk[4 * x + c] * k + 127) / 255);
            }
        } else {
            JSAMPROW row = pixels + y * w * channels;
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk);
    out->width = (int)w;
    out->height = (int)h;
    out->channels = channels;
    out->pixels = pixels;
    return 0;
}
