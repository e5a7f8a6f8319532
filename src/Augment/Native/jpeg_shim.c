/*
 * libloader_jpeg: the smallest C layer over libjpeg(-turbo) that managed code needs.
 *
 * Why C: libjpeg reports fatal errors through error_exit, which must not return. Only C can setjmp/longjmp around
 * it; a managed exception must never unwind through native frames. Every entry point is setjmp-protected and
 * returns 0 on success or an error code with a message in the caller's buffer.
 *
 * What it does: read a header; decode a rectangle of the image at a DCT scale of scale_num/8, reading only the rows
 * it needs (jpeg_skip_scanlines) and only the iMCU columns it needs (jpeg_crop_scanline), always as interleaved RGB
 * (grayscale is expanded by libjpeg-turbo, CMYK/YCCK converted here). And rewrite a JPEG losslessly with restart
 * markers (loader_jpeg_transcode: the same quantized DCT coefficients, new Huffman tables, baseline), so that the
 * loader can later decode just the restart intervals a crop needs.
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

/* libjpeg's memory manager refuses to allocate more than this for one decompressor (max_memory_to_use). Only
 * progressive (and buffered) decoding keeps the whole image's coefficients in memory; without a cap, a 55 KB
 * progressive file whose frame claims 65500x65500 makes libjpeg allocate gigabytes. With it, libjpeg stops with
 * "Backing store not supported". 256 MB holds the coefficients of a 4:2:0 image of about 85 megapixels. */
#define LJ_DECODE_MEMORY_LIMIT (256L * 1024 * 1024)
/* The transcoder always holds the whole image's coefficients (jpeg_read_coefficients); make-records checks the
 * pixel count from the header first (--max-pixels, 179 megapixels by default: about 1.1 GB at 4:4:4). */
#define LJ_TRANSCODE_MEMORY_LIMIT (2048L * 1024 * 1024)

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char* message;
    int message_capacity;
    int strict; /* corrupt-data warnings are errors (see loader_jpeg_set_strict) */
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
    if (level < 0 && ((lj_error*)cinfo->err)->strict) {
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
    d->cinfo.mem->max_memory_to_use = LJ_DECODE_MEMORY_LIMIT;
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

/* Strict decoding for sub-JPEGs the loader built itself: their markers are all well formed, so any warning (bad
 * Huffman code, an interval that ends early or late, resynchronization) means a corrupt restart interval, and the
 * sample is reported bad rather than decoded with grey blocks. */
void loader_jpeg_set_strict(lj_decoder* d, int strict) {
    if (d != NULL) {
        d->error.strict = strict != 0;
    }
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
 * libjpeg can only start a row at an iMCU boundary, so each row may begin *left_pad pixels before x (at most 32):
 * pixel x of the image lands at out + row * out_stride + *left_pad * 3. Rows are decoded straight into out when
 * out_stride holds the padded row (w + 33 pixels always does: the left pad and one pixel past the right edge);
 * otherwise (and for CMYK) through a scanline buffer, with *left_pad = 0.
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

    /* jpeg_crop_scanline moves the left edge down to an iMCU boundary and widens the row to match. Fancy chroma
     * upsampling replicates the chroma samples at the cropped row's two ends, so the first and last pixel of a
     * cropped row can differ from the full decode's (checked here: a crop starting on an iMCU boundary, or ending on
     * an even column at 4:2:x). The crop is therefore one pixel wider than asked on each side that is not an image
     * edge: the pixels asked for are then exactly the full decode's. */
    JDIMENSION crop_x = (JDIMENSION)x;
    JDIMENSION crop_w = (JDIMENSION)w;
    if (crop_x > 0) {
        crop_x--;
        crop_w++;
    }
    if (crop_x + crop_w < cinfo->output_width) {
        crop_w++;
    }
    /* libjpeg-turbo falls back to plain (replicating) upsampling for a component only one or two samples wide: a
     * cropped row is at least 9 pixels (more than 2 chroma samples at up to 4x horizontal subsampling). */
    while (crop_w < 9 && crop_w < cinfo->output_width) {
        if (crop_x + crop_w < cinfo->output_width) {
            crop_w++;
        } else {
            crop_x--;
            crop_w++;
        }
    }
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

/*
 * Lossless restart-interval transcoding (what `jpegtran -optimize -restart N -copy all` does): reads the quantized DCT
 * coefficients of a baseline or progressive Huffman JPEG and writes them again as a baseline JPEG with a restart
 * marker every restart_mcus MCUs and optimized Huffman tables. Pixels decode exactly as before. With copy_markers,
 * APPn and COM markers are copied (except the JFIF and Adobe markers libjpeg writes itself); without, only those two
 * are written (what `jpegtran -copy none` does). On success *out is a malloc'd buffer of
 * *out_size bytes that the caller releases with loader_jpeg_free.
 */
typedef struct {
    struct jpeg_decompress_struct src;
    struct jpeg_compress_struct dst;
    lj_error error;
    int have_src;
    int have_dst;
} lj_transcoder;

static void lj_transcoder_release(lj_transcoder* t) {
    if (t->have_dst) {
        jpeg_destroy_compress(&t->dst);
    }
    if (t->have_src) {
        jpeg_destroy_decompress(&t->src);
    }
}

static int lj_is_marker(jpeg_saved_marker_ptr m, int code, const char* tag, unsigned int tag_length) {
    return m->marker == code && m->data_length >= tag_length && memcmp(m->data, tag, tag_length) == 0;
}

int loader_jpeg_transcode(const uint8_t* data, size_t size, int restart_mcus, int copy_markers, uint8_t** out,
                          size_t* out_size, char* message, int message_capacity) {
    if (data == NULL || size == 0 || out == NULL || out_size == NULL || restart_mcus < 1 || restart_mcus > 65535) {
        if (message != NULL && message_capacity > 0) {
            snprintf(message, (size_t)message_capacity, "%s", "bad transcode arguments");
        }
        return LJ_ERROR_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    lj_transcoder* volatile t = (lj_transcoder*)calloc(1, sizeof(lj_transcoder));
    if (t == NULL) {
        return LJ_ERROR_MEMORY;
    }
    /* libjpeg allocates the destination buffer itself (jpeg_mem_dest with NULL) and moves it as it grows. */
    unsigned char* volatile buffer = NULL;
    unsigned long buffer_size = 0;
    t->error.message = message;
    t->error.message_capacity = message_capacity;
    t->src.err = jpeg_std_error(&t->error.pub);
    t->dst.err = &t->error.pub;
    t->error.pub.error_exit = lj_error_exit;
    t->error.pub.emit_message = lj_emit_message;
    if (setjmp(t->error.jump)) {
        lj_transcoder_release(t);
        free(t);
        free(buffer);
        return LJ_ERROR_JPEG;
    }

    jpeg_create_decompress(&t->src);
    t->have_src = 1;
    t->src.mem->max_memory_to_use = LJ_TRANSCODE_MEMORY_LIMIT;
    if (copy_markers) {
        jpeg_save_markers(&t->src, JPEG_COM, 0xFFFF);
        for (int i = 0; i < 16; i++) {
            jpeg_save_markers(&t->src, JPEG_APP0 + i, 0xFFFF);
        }
    }
    jpeg_mem_src(&t->src, data, (unsigned long)size);
    if (jpeg_read_header(&t->src, TRUE) != JPEG_HEADER_OK) {
        lj_set_message(NULL, message, message_capacity, "no image in the JPEG stream (tables only)");
        lj_transcoder_release(t);
        free(t);
        return LJ_ERROR_JPEG;
    }
    jvirt_barray_ptr* coefficients = jpeg_read_coefficients(&t->src);

    jpeg_create_compress(&t->dst);
    t->have_dst = 1;
    t->dst.mem->max_memory_to_use = LJ_TRANSCODE_MEMORY_LIMIT;
    jpeg_copy_critical_parameters(&t->src, &t->dst);
    t->dst.restart_interval = (unsigned int)restart_mcus;
    t->dst.restart_in_rows = 0;
    t->dst.optimize_coding = TRUE;
    jpeg_mem_dest(&t->dst, (unsigned char**)&buffer, &buffer_size);
    jpeg_write_coefficients(&t->dst, coefficients);
    for (jpeg_saved_marker_ptr m = t->src.marker_list; m != NULL; m = m->next) {
        if (t->dst.write_JFIF_header && lj_is_marker(m, JPEG_APP0, "JFIF", 5)) {
            continue;
        }
        if (t->dst.write_Adobe_marker && lj_is_marker(m, JPEG_APP0 + 14, "Adobe", 5)) {
            continue;
        }
        jpeg_write_marker(&t->dst, m->marker, m->data, m->data_length);
    }
    jpeg_finish_compress(&t->dst);
    /* Reading stops at the last scan: finishing decompression checks the input ends as a JPEG should. */
    jpeg_finish_decompress(&t->src);

    lj_transcoder_release(t);
    free(t);
    *out = buffer;
    *out_size = (size_t)buffer_size;
    return LJ_OK;
}

void loader_jpeg_free(uint8_t* buffer) {
    free(buffer);
}
