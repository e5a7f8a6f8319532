/*
 * Fuzz target for the JPEG shim (src/Augment/Native/jpeg_shim.c): its restart-aware Huffman decoder, the region
 * decode around it and the restart-interval transcoder, on bytes an attacker controls (a crafted record's JPEG, or
 * the sub-JPEG the splicer cuts out of one). Built with clang's libFuzzer and AddressSanitizer + UBSan by run.sh; the
 * same file built with -DLJ_FUZZ_REPLAY has a main() that runs the inputs named on its command line (the tests'
 * replay of the committed corpus, and run.sh's replay of findings).
 *
 * An input is 8 parameter bytes, then the JPEG:
 *   [0] DCT scale numerator - 1 (mod 8)   [1] entropy decoder: 0 libjpeg, 1 fast, 2 paired (mod 3)
 *   [2] bit 0: strict (corrupt-data warnings are errors, as for the splicer's sub-JPEGs)
 *       bit 1: transcode the JPEG first (restart interval [7] % 16 + 1 MCUs; bit 7 of [7]: keep the metadata),
 *       check that it is lossless, then decode the result
 *       bit 2: also compare the region with the same rectangle of a full-width decode (check_same_as_full_width)
 *   [3..6] the region: left, top, right, bottom as fractions (n / 255) of the scaled image
 *   [7] the transcode's restart interval
 *
 * What counts as a finding, beyond a sanitizer report:
 *   - a return code other than OK, a JPEG error or an argument error (memory errors and "not lossless" are allowed
 *     only from the transcoder, which holds the whole image);
 *   - on success: a left pad over 33 pixels, or a scaled size other than ceil(size * scale / 8);
 *   - a transcode that is not lossless (check_lossless);
 *   - the differential checks (check_fast_decoder, check_same_as_new_decoder): in strict mode, the fast entropy
 *     decoders (1, 2) against a new decoder with libjpeg's own (0), refusals and pixels, within the limits that
 *     check_fast_decoder spells out; in tolerant mode, the decoder that lives across inputs against a new one in the
 *     same mode. The fast decoder calls every corrupt-data condition an error; when it accepts the data, libjpeg
 *     must see the same coefficients;
 *   - a region decode (libjpeg's jpeg_skip_scanlines and jpeg_crop_scanline under the shim's fast decoders) that
 *     gives other pixels than the full-width decode of a file libjpeg decodes without a warning.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lj_decoder lj_decoder;
lj_decoder* loader_jpeg_create(void);
void loader_jpeg_destroy(lj_decoder* d);
void loader_jpeg_set_fast_entropy(lj_decoder* d, int mode);
int loader_jpeg_read_header(lj_decoder* d, const uint8_t* data, size_t size, int* width, int* height, int* components,
                            char* message, int message_capacity);
int loader_jpeg_decode_region(lj_decoder* d, const uint8_t* data, size_t size, int strict, int scale_num, int x, int y,
                              int w, int h, uint8_t* out, size_t out_stride, size_t out_capacity, int* left_pad,
                              int* scaled_width, int* scaled_height, char* message, int message_capacity);
int loader_jpeg_transcode(const uint8_t* data, size_t size, int restart_mcus, int copy_markers, uint8_t** out,
                          size_t* out_size, char* message, int message_capacity);
void loader_jpeg_free(uint8_t* buffer);

#define PARAMETERS 8
#define MAX_LEFT_PAD 33
#define MESSAGE 256
/* Larger images decode too slowly to fuzz (and make-records refuses them long before the shim's own limits). */
#define MAX_PIXELS (4L * 1024 * 1024)

/* The message of the last decode that failed (what libjpeg said), for the finding's line. */
static char last_message[MESSAGE];

static void finding(const char* what, int a, int b) {
    fprintf(stderr, "jpeg_shim_fuzz: FINDING: %s (%d, %d); last error: %s\n", what, a, b, last_message);
    abort();
}

/* transcoder: the transcoder's codes are allowed too (out of memory: it holds the whole image; not lossless: a file
 * libjpeg decodes with block smoothing). */
static void check_rc(int rc, int transcoder) {
    if (rc != 0 && rc != 1 && rc != 2 && !((rc == 3 || rc == 4) && transcoder)) {
        finding("unexpected return code", rc, transcoder);
    }
}

/* Decodes the region the parameters give (one decoder, reused across inputs as a loader worker reuses it). Returns
 * the pixels (malloc'd, exactly the bytes the call may write, so that ASan sees any write past them) or NULL. */
static uint8_t* decode(lj_decoder* d, const uint8_t* jpeg, size_t size, const uint8_t* p, int mode, int strict,
                       size_t* bytes, int* left_pad, int* reaches_right, int* rectangle) {
    char message[MESSAGE];
    int width, height, components;
    int rc = loader_jpeg_read_header(d, jpeg, size, &width, &height, &components, message, MESSAGE);
    check_rc(rc, 0);
    if (rc != 0 || width <= 0 || height <= 0 || (long)width * height > MAX_PIXELS) {
        return NULL;
    }
    int scale = (p[0] & 7) + 1;
    int sw = (int)(((long)width * scale + 7) / 8), sh = (int)(((long)height * scale + 7) / 8);
    int x0 = (int)((long)p[3] * (sw - 1) / 255), y0 = (int)((long)p[4] * (sh - 1) / 255);
    int x1 = x0 + 1 + (int)((long)p[5] * (sw - 1 - x0) / 255), y1 = y0 + 1 + (int)((long)p[6] * (sh - 1 - y0) / 255);
    int w = x1 - x0, h = y1 - y0;
    *reaches_right = x1 == sw;
    if (rectangle != NULL) {
        rectangle[0] = x0, rectangle[1] = y0, rectangle[2] = w, rectangle[3] = h, rectangle[4] = sw;
    }
    size_t stride = (size_t)(w + MAX_LEFT_PAD) * 3;
    *bytes = stride * (size_t)h;
    uint8_t* out = (uint8_t*)malloc(*bytes);
    if (out == NULL) {
        return NULL;
    }
    memset(out, 0xA5, *bytes); /* rows are padded: the differential check compares what both decoders left */
    loader_jpeg_set_fast_entropy(d, mode);
    int got_w = 0, got_h = 0;
    rc = loader_jpeg_decode_region(d, jpeg, size, strict, scale, x0, y0, w, h, out, stride, *bytes, left_pad, &got_w, &got_h,
                                   message, MESSAGE);
    /* The rectangle comes from this header and fits it: an argument error would be a bug in the shim's checks. */
    if (rc != 0 && rc != 1) {
        finding("the region decode refused its own header's rectangle", rc, 0);
    }
    if (rc != 0) {
        memcpy(last_message, message, MESSAGE);
        last_message[MESSAGE - 1] = 0;
        free(out);
        return NULL;
    }
    if (*left_pad < 0 || *left_pad > MAX_LEFT_PAD || got_w != sw || got_h != sh) {
        finding("bad left pad or scaled size", *left_pad, got_w * 100000 + got_h);
    }
    return out;
}

/* The decoder under test lives across inputs, as a loader worker's does; the reference is new for every input, so a
 * difference also shows state that one image leaves behind for the next. */
static lj_decoder* decoder;

/* Transcoding is lossless: where libjpeg decodes the source's region without a warning (strict), it must decode the
 * transcoded file's region to the same pixels, without a warning either. (A source that decodes only with warnings is
 * corrupt; make-records' output for it is whatever libjpeg reads, and is not compared.) */
static void check_lossless(const uint8_t* source, size_t source_size, const uint8_t* transcoded, size_t transcoded_size,
                           const uint8_t* p) {
    lj_decoder* reference = loader_jpeg_create();
    if (reference == NULL) {
        finding("no decoder", 0, 0);
    }
    size_t source_bytes = 0, transcoded_bytes = 0;
    int source_pad = 0, transcoded_pad = 0, reaches_right = 0;
    uint8_t* before = decode(reference, source, source_size, p, 0, 1, &source_bytes, &source_pad, &reaches_right, NULL);
    if (before != NULL) {
        uint8_t* after = decode(reference, transcoded, transcoded_size, p, 0, 1, &transcoded_bytes, &transcoded_pad,
                                &reaches_right, NULL);
        if (after == NULL) {
            finding("the transcoded file does not decode where its source does", 0, 0);
        }
        if (transcoded_bytes != source_bytes || memcmp(before, after, source_bytes) != 0) {
            finding("the transcoded file's pixels differ from its source's", source_pad, transcoded_pad);
        }
        free(after);
    }
    free(before);
    loader_jpeg_destroy(reference);
}

/* Two decodes of one region gave the same rows: the same buffer, the same left pad, the same bytes. */
static int same_region(const uint8_t* a, size_t a_bytes, int a_pad, const uint8_t* b, size_t b_bytes, int b_pad) {
    return a_bytes == b_bytes && a_pad == b_pad && memcmp(a, b, a_bytes) == 0;
}

/* Whether the data holds FF FF ... FF 00: not valid JPEG (fill bytes may only precede a marker), but libjpeg reads it
 * as one FF data byte (jdhuff.c, jpeg_fill_bit_buffer), where the fast decoders and the splicer see a marker. The fast
 * decoder then refuses what libjpeg decodes: in tolerant mode the shim decodes such a file again with libjpeg; a
 * spliced sub-JPEG with it is a bad sample. A known difference, not a finding. */
static int has_padded_stuffing(const uint8_t* jpeg, size_t length) {
    for (size_t i = 0; i + 2 < length; i++) {
        if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xFF) {
            size_t k = i + 1;
            while (k < length && jpeg[k] == 0xFF) {
                k++;
            }
            if (k < length && jpeg[k] == 0x00) {
                return 1;
            }
            i = k - 1;
        }
    }
    return 0;
}

/* The differential check of the fast entropy decoders (strict, as for the splicer's sub-JPEGs), against a new decoder
 * with libjpeg's own entropy decoder:
 *   - the fast decoder refuses the region: libjpeg (strict) must refuse it too (a wrong refusal drops good samples);
 *   - the fast decoder decodes it: libjpeg must decode the same pixels, strict where it can; else strict with an EOI
 *     appended (libjpeg's bit buffer reads ahead past the last MCU it needs, so data that ends without a marker right
 *     after the region's last bit is "premature end" to it, which the shim makes fatal; the fast decoder reads only
 *     real bits, lj_check_zeros); else tolerant (it warns about data the fast decoder needs nothing from). It must
 *     decode one way or another whenever the region reaches the image's right edge: left of that edge the fast
 *     decoder skips the rest of an interval right of the region, which libjpeg decodes, so a corrupt tail there can
 *     fail only libjpeg. */
static void check_fast_decoder(const uint8_t* jpeg, size_t length, const uint8_t* p, int mode, const uint8_t* pixels,
                               size_t bytes, int left_pad, int reaches_right) {
    lj_decoder* reference = loader_jpeg_create();
    uint8_t* ended = (uint8_t*)malloc(length + 2);
    if (reference == NULL || ended == NULL) {
        finding("out of memory", 0, 0);
    }
    size_t expected_bytes = 0;
    int expected_pad = 0, ignored = 0;
    uint8_t* expected = decode(reference, jpeg, length, p, 0, 1, &expected_bytes, &expected_pad, &ignored, NULL);
    if (pixels == NULL) {
        /* One refusal libjpeg does not share: data left over at an interval's end ("extraneous bytes before marker")
         * that libjpeg's bit buffer had already loaded when it saw the marker. libjpeg adds those bytes to its count
         * but warns only from next_marker, which it then never calls (jdmarker.c, read_restart_marker), so it reads
         * the same coefficients and says nothing; the fast decoder calls the interval corrupt, as libjpeg does for
         * the bytes it has not loaded. (A fuzz finding: every coefficient up to the marker was the same.) */
        if (expected != NULL && strstr(last_message, "extraneous bytes before marker") == NULL &&
            !has_padded_stuffing(jpeg, length)) {
            finding("the fast decoder refused a region that libjpeg's decodes", mode, 0);
        }
    } else {
        if (expected == NULL) {
            memcpy(ended, jpeg, length);
            ended[length] = 0xFF;
            ended[length + 1] = 0xD9;
            expected = decode(reference, ended, length + 2, p, 0, 1, &expected_bytes, &expected_pad, &ignored, NULL);
        }
        if (expected == NULL) {
            expected = decode(reference, jpeg, length, p, 0, 0, &expected_bytes, &expected_pad, &ignored, NULL);
        }
        if (expected == NULL && reaches_right) {
            finding("the fast decoder accepted data that libjpeg's refuses", mode, 0);
        }
        if (expected != NULL && !same_region(expected, expected_bytes, expected_pad, pixels, bytes, left_pad)) {
            finding("the fast decoder's pixels differ from libjpeg's", mode, left_pad);
        }
    }
    free(expected);
    free(ended);
    loader_jpeg_destroy(reference);
}

/* Tolerant mode (whole files, as the loader decodes them): the decoder that lives across inputs must give what a new
 * decoder in the same mode gives, refusal or pixels: nothing an earlier image left behind may change the outcome. */
static void check_same_as_new_decoder(const uint8_t* jpeg, size_t length, const uint8_t* p, int mode,
                                      const uint8_t* pixels, size_t bytes, int left_pad) {
    lj_decoder* fresh = loader_jpeg_create();
    if (fresh == NULL) {
        finding("out of memory", 0, 0);
    }
    size_t fresh_bytes = 0;
    int fresh_pad = 0, ignored = 0;
    uint8_t* expected = decode(fresh, jpeg, length, p, mode, 0, &fresh_bytes, &fresh_pad, &ignored, NULL);
    if ((expected == NULL) != (pixels == NULL)) {
        finding("a reused decoder and a new one disagree on whether the region decodes", mode, pixels != NULL);
    }
    if (expected != NULL && !same_region(expected, fresh_bytes, fresh_pad, pixels, bytes, left_pad)) {
        finding("a reused decoder's pixels differ from a new one's", mode, left_pad);
    }
    free(expected);
    loader_jpeg_destroy(fresh);
}

/* A region is the same rectangle of the full-width decode, row for row, where libjpeg decodes the whole image without
 * a warning (strict, its own entropy decoder): cropping and skipping rows (jpeg_crop_scanline, jpeg_skip_scanlines,
 * the fast decoders' skipped interval tails) may change nothing. (libjpeg-turbo 2.1's jpeg_crop_scanline left chroma
 * unupsampled for 4x2 and 2x4 sampling below 8/8; the shim now decodes those at full width.) */
static void check_same_as_full_width(const uint8_t* jpeg, size_t length, const uint8_t* p, const uint8_t* pixels,
                                     int left_pad, const int* rectangle) {
    lj_decoder* reference = loader_jpeg_create();
    if (reference == NULL) {
        finding("out of memory", 0, 0);
    }
    uint8_t whole[PARAMETERS];
    memcpy(whole, p, PARAMETERS);
    whole[3] = whole[4] = 0; /* left and top edges */
    whole[5] = whole[6] = 255; /* right and bottom edges */
    size_t full_bytes = 0;
    int full_pad = 0, ignored = 0;
    uint8_t* full = decode(reference, jpeg, length, whole, 0, 1, &full_bytes, &full_pad, &ignored, NULL);
    if (full != NULL) {
        int x = rectangle[0], y = rectangle[1], w = rectangle[2], h = rectangle[3], sw = rectangle[4];
        size_t stride = (size_t)(w + MAX_LEFT_PAD) * 3, full_stride = (size_t)(sw + MAX_LEFT_PAD) * 3;
        for (int row = 0; row < h; row++) {
            const uint8_t* a = pixels + (size_t)row * stride + (size_t)left_pad * 3;
            const uint8_t* b = full + (size_t)(y + row) * full_stride + (size_t)(full_pad + x) * 3;
            if (memcmp(a, b, (size_t)w * 3) != 0) {
                finding("a region's pixels differ from the full-width decode's", row, x);
            }
        }
    }
    free(full);
    loader_jpeg_destroy(reference);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size <= PARAMETERS) {
        return 0;
    }
    if (decoder == NULL && (decoder = loader_jpeg_create()) == NULL) {
        finding("no decoder", 0, 0);
    }
    const uint8_t* p = data;
    const uint8_t* jpeg = data + PARAMETERS;
    size_t length = size - PARAMETERS;
    int mode = p[1] % 3, strict = p[2] & 1;
    uint8_t* transcoded = NULL;
    if (p[2] & 2) {
        char message[MESSAGE];
        int width, height, components;
        int rc = loader_jpeg_read_header(decoder, jpeg, length, &width, &height, &components, message, MESSAGE);
        if (rc != 0 || (long)width * height > MAX_PIXELS) {
            return 0;
        }
        size_t transcoded_size = 0;
        rc = loader_jpeg_transcode(jpeg, length, p[7] % 16 + 1, p[7] >> 7, &transcoded, &transcoded_size, message,
                                   MESSAGE);
        check_rc(rc, 1);
        if (rc != 0) {
            return 0;
        }
        check_lossless(jpeg, length, transcoded, transcoded_size, p);
        jpeg = transcoded;
        length = transcoded_size;
    }
    size_t bytes = 0;
    int left_pad = 0, reaches_right = 0;
    int rectangle[5] = {0};
    uint8_t* pixels = decode(decoder, jpeg, length, p, mode, strict, &bytes, &left_pad, &reaches_right, rectangle);
    if (strict && mode != 0) {
        check_fast_decoder(jpeg, length, p, mode, pixels, bytes, left_pad, reaches_right);
    } else if (!strict) {
        check_same_as_new_decoder(jpeg, length, p, mode, pixels, bytes, left_pad);
    }
    if (pixels != NULL && (p[2] & 4)) {
        check_same_as_full_width(jpeg, length, p, pixels, left_pad, rectangle);
    }
    free(pixels);
    loader_jpeg_free(transcoded);
    return 0;
}

#ifdef LJ_FUZZ_REPLAY
static uint8_t* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t* data = (uint8_t*)malloc(n > 0 ? (size_t)n : 1);
    if (n < 0 || data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* One seed file: the parameters, then the JPEG. False (with the reason printed) when it cannot be written. */
static int write_seed(const char* path, const uint8_t* parameters, const uint8_t* jpeg, size_t size) {
    FILE* f = fopen(path, "wb");
    int ok = f != NULL && fwrite(parameters, 1, PARAMETERS, f) == PARAMETERS && fwrite(jpeg, 1, size, f) == size;
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        perror(path);
    }
    return ok;
}

/* Seeds: each JPEG transcoded with a restart marker every 1, 2, 4 and 8 MCUs (what make-records writes, and what
 * the splicer's sub-JPEGs look like), behind parameters that decode a few regions at a few scales with the paired
 * decoder, strict (files the transcoder refuses give none of these); and each JPEG as it is, for the target to
 * transcode (without and with its metadata) and check. */
static int write_seeds(const char* directory, int count, char** files) {
    /* The last region is decoded at 2/8 and compared with the full-width decode (parameter [2] bit 2). */
    static const uint8_t regions[4][4] = {{0, 0, 255, 255}, {60, 90, 120, 100}, {200, 10, 255, 40}, {30, 30, 220, 220}};
    int written = 0;
    for (int i = 0; i < count; i++) {
        size_t size;
        uint8_t* jpeg = read_file(files[i], &size);
        for (int interval = 1; interval <= 8; interval *= 2) {
            uint8_t* out = NULL;
            size_t out_size = 0;
            char message[MESSAGE];
            if (loader_jpeg_transcode(jpeg, size, interval, 0, &out, &out_size, message, MESSAGE) != 0) {
                continue;
            }
            for (int r = 0; r < 4; r++) {
                uint8_t scale = (uint8_t)(r == 3 ? 1 : interval == 8 && r == 2 ? 3 : 7);
                uint8_t p[PARAMETERS] = {scale, 2, (uint8_t)(r == 3 ? 5 : 1), regions[r][0], regions[r][1], regions[r][2],
                                         regions[r][3], 0};
                char path[4096];
                snprintf(path, sizeof(path), "%s/seed-%03d-%d-%d", directory, i, interval, r);
                if (!write_seed(path, p, out, out_size)) {
                    return 2;
                }
                written++;
            }
            loader_jpeg_free(out);
        }
        /* The source itself, to be transcoded by the target (every restart interval and metadata mode mutations reach). */
        for (int keep = 0; keep < 2; keep++) {
            uint8_t p[PARAMETERS] = {7, 2, 3, 40, 40, 200, 200, (uint8_t)(keep ? 0x87 : 0x02)};
            char path[4096];
            snprintf(path, sizeof(path), "%s/seed-%03d-source-%d", directory, i, keep);
            if (!write_seed(path, p, jpeg, size)) {
                return 2;
            }
            written++;
        }
        free(jpeg);
    }
    printf("jpeg_shim_fuzz: %d seeds in %s\n", written, directory);
    return 0;
}

/* jpeg_shim_fuzz FILE...: runs each input once; exits 0 when none is a finding (a finding aborts).
 * jpeg_shim_fuzz --seeds DIR JPEG...: writes the seed corpus. */
int main(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[1], "--seeds") == 0) {
        return write_seeds(argv[2], argc - 3, argv + 3);
    }
    for (int i = 1; i < argc; i++) {
        size_t size;
        uint8_t* data = read_file(argv[i], &size);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
    }
    loader_jpeg_destroy(decoder);
    printf("jpeg_shim_fuzz: %d inputs, no finding\n", argc - 1);
    return 0;
}
#endif
