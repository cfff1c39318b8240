// PNG decode and encode through libpng, from and to memory. Fatal errors longjmp back here and
// become a status and a message; warnings are dropped (never printed).
#include "imageio.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jmp;
    char *err;
    size_t errlen;
    const uint8_t *data;
    size_t len, pos;
    // encode side
    uint8_t *out;
    size_t outlen, outcap;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = (png_ctx *)png_get_error_ptr(png);
    snprintf(ctx->err, ctx->errlen, "%s", msg);
    longjmp(ctx->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void on_read(png_structp png, png_bytep dst, png_size_t n) {
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos) png_error(png, "file is truncated");
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

int imageio_png_decode(const uint8_t *data, size_t len, imageio_image *out, char *err, size_t errlen) {
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.err = err;
    ctx.errlen = errlen;
    ctx.data = data;
    ctx.len = len;
    out->pixels = NULL;
    if (len < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(err, errlen, "not a PNG file (bad signature)");
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) {
        snprintf(err, errlen, "libpng: out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(ctx.jmp)) {
        if (!info) snprintf(err, errlen, "libpng: out of memory");
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        return -1;
    }
    png_set_read_fn(png, &ctx, on_read);
    png_set_user_limits(png, 1 << 16, 1 << 16);
    png_read_info(png, info);

    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    png_set_expand(png);  // palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha
    if (depth == 16) png_set_scale_16(png);
    if ((color == PNG_COLOR_TYPE_GRAY_ALPHA) || (color == PNG_COLOR_TYPE_GRAY && has_trns))
        png_set_gray_to_rgb(png);  // gray + alpha becomes RGBA: channels stay 1, 3 or 4
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels != 1 && channels != 3 && channels != 4) png_error(png, "unsupported channel layout");
    if (rowbytes != (size_t)w * channels) png_error(png, "unexpected row size after conversion");
    if ((double)rowbytes * h > (double)(1u << 30)) png_error(png, "image too large (over 1 GiB decoded)");
    pixels = malloc(rowbytes * h ? rowbytes * h : 1);
    rows = malloc(sizeof(png_bytep) * (h ? h : 1));
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->width = (int)w;
    out->height = (int)h;
    out->channels = channels;
    out->pixels = pixels;
    return 0;
}

static void on_write(png_structp png, png_bytep src, png_size_t n) {
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (ctx->outlen + n > ctx->outcap) {
        size_t cap = ctx->outcap ? ctx->outcap : 4096;
        while (cap < ctx->outlen + n) cap *= 2;
        uint8_t *grown = realloc(ctx->out, cap);
        if (!grown) png_error(png, "out of memory");
        ctx->out = grown;
        ctx->outcap = cap;
    }
    memcpy(ctx->out + ctx->outlen, src, n);
    ctx->outlen += n;
}

static void on_flush(png_structp png) { (void)png; }

int imageio_png_encode(const uint8_t *pixels, int width, int height, int channels,
                       uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    *out = NULL;
    *outlen = 0;
    if (channels < 1 || channels > 4 || width <= 0 || height <= 0) {
        snprintf(err, errlen, "cannot encode %dx%d image with %d channels", width, height, channels);
        return -1;
    }
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.err = err;
    ctx.errlen = errlen;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) {
        snprintf(err, errlen, "libpng: out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(ctx.jmp)) {
        if (!info) snprintf(err, errlen, "libpng: out of memory");
        free(rows);
        free(ctx.out);
        png_destroy_write_struct(&png, info ? &info : NULL);
        return -1;
    }
    png_set_write_fn(png, &ctx, on_write, on_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * width * channels);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = ctx.out;
    *outlen = ctx.outlen;
    return 0;
}

void imageio_free(void *p) { free(p); }
