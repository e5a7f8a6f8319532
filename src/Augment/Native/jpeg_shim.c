/*
 * libloader_jpeg: the smallest C layer over libjpeg(-turbo) that managed code needs.
 *
 * Why C: libjpeg reports fatal errors through error_exit, which must not return. Only C can setjmp/longjmp around
 * it; a managed exception must never unwind through native frames. Every entry point is setjmp-protected and
 * returns 0 on success or an error code with a message in the caller's buffer.
 *
 * What it does: read a header; decode a rectangle of the image at a DCT scale of scale_num/8, reading only the rows
 * it needs (jpeg_skip_scanlines) and only the iMCU columns it needs (jpeg_crop_scanline), always as interleaved RGB
 * (grayscale is expanded by libjpeg-turbo, CMYK/YCCK converted here).
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define LJ_OK 0
#define LJ_ERROR_JPEG 1      /* libjpeg rejected the data; message says why */
#define LJ_ERROR_ARGUMENT 2  /* the caller's rectangle or buffer is wrong */
#define LJ_ERROR_MEMORY 3

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char* message;
    int message_capacity;
} lj_error;

typedef struct {
    struct jpeg_decompress_struct cinfo;
    lj_error error;
    JSAMPLE* row;          /* one scanline of the cropped width (4 samples per pixel for CMYK) */
    size_t row_capacity;
} lj_decoder;

static void lj_error_exit(j_common_ptr cinfo) {
    lj_error* err = (lj_error*)cinfo->err;
    if (err->message != NULL && err->message_capacity > 0) {
        char text[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, text);
        snprintf(err->message, (size_t)err->message_capacity, "%s", text);
    }
    longjmp(err->jump, 1);
}

/* Warnings ("extraneous bytes before marker", common in ImageNet) are tolerated like PIL does, except running out of
 * data inside the rows we need: libjpeg would pad with gray, we call it what it is, a truncated file. */
static void lj_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        lj_error_exit(cinfo);
    }
    if (level < 0) {
        cinfo->err->num_warnings++;
    }
}

static void lj_set_message(lj_decoder* d, char* message, int capacity, const char* text) {
    (void)d;
    if (message != NULL && capacity > 0) {
        snprintf(message, (size_t)capacity, "%s", text);
    }
}

lj_decoder* loader_jpeg_create(void) {
    lj_decoder* volatile d = (lj_decoder*)calloc(1, sizeof(lj_decoder));
    if (d == NULL) {
        return NULL;
    }
    d->cinfo.err = jpeg_std_error(&d->error.pub);
    d->error.pub.error_exit = lj_error_exit;
    d->error.pub.emit_message = lj_emit_message;
    if (setjmp(d->error.jump)) {
        jpeg_destroy_decompress(&d->cinfo);
        free(d);
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    return d;
}

void loader_jpeg_destroy(lj_decoder* d) {
    if (d == NULL) {
        return;
    }
    jpeg_destroy_decompress(&d->cinfo);
    free(d->row);
    free(d);
}

static int lj_begin(lj_decoder* d, const uint8_t* data, size_t size) {
    jpeg_abort_decompress(&d->cinfo);
    jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
    return jpeg_read_header(&d->cinfo, TRUE);
}

int loader_jpeg_read_header(lj_decoder* d, const uint8_t* data, size_t size, int* width, int* height,
                            int* components, char* message, int message_capacity) {
    d->error.message = message;
    d->error.message_capacity = message_capacity;
    if (setjmp(d->error.jump)) {
        jpeg_abort_decompress(&d->cinfo);
        return LJ_ERROR_JPEG;
    }
    if (lj_begin(d, data, size) != JPEG_HEADER_OK) {
        lj_set_message(d, message, message_capacity, "no image in the JPEG stream (tables only)");
        jpeg_abort_decompress(&d->cinfo);
        return LJ_ERROR_JPEG;
    }
    *width = (int)d->cinfo.image_width;
    *height = (int)d->cinfo.image_height;
    *components = d->cinfo.num_components;
    jpeg_abort_decompress(&d->cinfo);
    return LJ_OK;
}

/*
 * Decodes the rectangle [x, x + w) x [y, y + h) of the image scaled by scale_num/8 (coordinates in the scaled
 * image, whose size is ceil(width * scale_num / 8) x ceil(height * scale_num / 8), returned in scaled_width and
 * scaled_height) into out as RGB, rows out_stride bytes apart.
 *
 * libjpeg can only start a row at an iMCU boundary, so each row may begin *left_pad pixels before x: pixel x of the
 * image lands at out + row * out_stride + *left_pad * 3. Rows are decoded straight into out when out_stride holds the
 * padded row (w + 32 pixels always does); otherwise (and for CMYK) through a scanline buffer, with *left_pad = 0.
 */
int loader_jpeg_decode_region(lj_decoder* d, const uint8_t* data, size_t size, int scale_num, int x, int y, int w,
                              int h, uint8_t* out, size_t out_stride, size_t out_capacity, int* left_pad,
                              int* scaled_width, int* scaled_height, char* message, int message_capacity) {
    struct jpeg_decompress_struct* cinfo = &d->cinfo;
    d->error.message = message;
    d->error.message_capacity = message_capacity;
    if (setjmp(d->error.jump)) {
        jpeg_abort_decompress(cinfo);
        return LJ_ERROR_JPEG;
    }
    if (scale_num < 1 || scale_num > 8 || x < 0 || y < 0 || w <= 0 || h <= 0 || out == NULL ||
        out_stride < (size_t)w * 3 || out_capacity < out_stride * (size_t)(h - 1) + (size_t)w * 3) {
        lj_set_message(d, message, message_capacity, "bad decode arguments");
        return LJ_ERROR_ARGUMENT;
    }
    if (lj_begin(d, data, size) != JPEG_HEADER_OK) {
        lj_set_message(d, message, message_capacity, "no image in the JPEG stream (tables only)");
        jpeg_abort_decompress(cinfo);
        return LJ_ERROR_JPEG;
    }

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo->scale_num = (unsigned int)scale_num;
    cinfo->scale_denom = 8;
    jpeg_start_decompress(cinfo);
    *scaled_width = (int)cinfo->output_width;
    *scaled_height = (int)cinfo->output_height;
    if ((JDIMENSION)x + (JDIMENSION)w > cinfo->output_width || (JDIMENSION)y + (JDIMENSION)h > cinfo->output_height) {
        lj_set_message(d, message, message_capacity, "decode rectangle lies outside the scaled image");
        jpeg_abort_decompress(cinfo);
        return LJ_ERROR_ARGUMENT;
    }

    /* jpeg_crop_scanline moves the left edge down to an iMCU boundary and widens the row to match. */
    JDIMENSION crop_x = (JDIMENSION)x;
    JDIMENSION crop_w = (JDIMENSION)w;
    if (crop_w < cinfo->output_width) {
        jpeg_crop_scanline(cinfo, &crop_x, &crop_w);
    }
    size_t pixel = (size_t)cinfo->output_components;
    size_t need = (size_t)crop_w * pixel;
    if (need > d->row_capacity) {
        JSAMPLE* row = (JSAMPLE*)realloc(d->row, need);
        if (row == NULL) {
            lj_set_message(d, message, message_capacity, "out of memory for a scanline");
            jpeg_abort_decompress(cinfo);
            return LJ_ERROR_MEMORY;
        }
        d->row = row;
        d->row_capacity = need;
    }
    if (y > 0) {
        jpeg_skip_scanlines(cinfo, (JDIMENSION)y);
    }

    size_t skip = (size_t)((JDIMENSION)x - crop_x);
    if (!cmyk && need <= out_stride && out_stride * (size_t)(h - 1) + need <= out_capacity) {
        /* Fast path: libjpeg writes each padded row where it belongs; no copy. */
        *left_pad = (int)skip;
        for (int r = 0; r < h; r++) {
            JSAMPROW rows[1] = {out + (size_t)r * out_stride};
            if (jpeg_read_scanlines(cinfo, rows, 1) != 1) {
                lj_set_message(d, message, message_capacity, "the JPEG stream ended before the image did");
                jpeg_abort_decompress(cinfo);
                return LJ_ERROR_JPEG;
            }
        }
        jpeg_abort_decompress(cinfo);
        return LJ_OK;
    }

    *left_pad = 0;
    JSAMPROW rows[1] = {d->row};
    for (int r = 0; r < h; r++) {
        if (jpeg_read_scanlines(cinfo, rows, 1) != 1) {
            lj_set_message(d, message, message_capacity, "the JPEG stream ended before the image did");
            jpeg_abort_decompress(cinfo);
            return LJ_ERROR_JPEG;
        }
        uint8_t* dst = out + (size_t)r * out_stride;
        const JSAMPLE* src = d->row + skip * pixel;
        if (!cmyk) {
            memcpy(dst, src, (size_t)w * 3);
        } else {
            /* Adobe CMYK JPEGs (the only kind in practice) store inverted values: R = C * K / 255, etc. */
            for (int i = 0; i < w; i++, src += 4, dst += 3) {
                unsigned int k = src[3];
                dst[0] = (uint8_t)((src[0] * k + 127) / 255);
                dst[1] = (uint8_t)((src[1] * k + 127) / 255);
                dst[2] = (uint8_t)((src[2] * k + 127) / 255);
            }
        }
    }
    /* We stop before the last row on purpose; abort releases the decoder's per-image state for the next call. */
    jpeg_abort_decompress(cinfo);
    return LJ_OK;
}
