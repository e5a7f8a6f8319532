/* Writes the JPEG fixtures with the sampling factors Skia cannot encode (4:4:0 = luma 1x2, 4:1:1 = luma 4x1, and luma
 * 4x2 and 2x4, where libjpeg-turbo 2.1's jpeg_crop_scanline went wrong at reduced scales), for the region and splice
 * tests, and a progressive 4:2:0 JPEG of its DC scan alone (legal; libjpeg smooths its blocks when decoding, which
 * cropping and transcoding must not change): cc make_sampling_fixtures.c -ljpeg -o gen && ./gen ../Fixtures/images
 * The picture is a deterministic colour pattern with edges and noise in every channel, so chroma upsampling errors
 * at a crop's edge show in the pixels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static void write_jpeg(const char* path, int width, int height, int h, int v, int dc_only) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    FILE* f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    c.comp_info[0].h_samp_factor = h;
    c.comp_info[0].v_samp_factor = v;
    c.comp_info[1].h_samp_factor = c.comp_info[1].v_samp_factor = 1;
    c.comp_info[2].h_samp_factor = c.comp_info[2].v_samp_factor = 1;
    static const jpeg_scan_info dc_scan = {3, {0, 1, 2, 0}, 0, 0, 0, 0}; /* all components, coefficient 0, all bits */
    if (dc_only) {
        c.scan_info = &dc_scan;
        c.num_scans = 1;
    }
    jpeg_start_compress(&c, TRUE);
    unsigned int seed = 12345;
    JSAMPLE* row = malloc((size_t)width * 3);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            seed = seed * 1103515245u + 12345u;
            int noise = (int)((seed >> 16) & 63) - 32;
            int r = (x * 255) / width + ((x / 5 + y / 7) % 2 ? 40 : -40) + noise;
            int g = (y * 255) / height + ((x / 3) % 2 ? 50 : -50) - noise;
            int b = ((x + y) * 128) / (width + height) + ((y / 3) % 2 ? 60 : -60) + noise / 2;
            row[3 * x] = (JSAMPLE)(r < 0 ? 0 : r > 255 ? 255 : r);
            row[3 * x + 1] = (JSAMPLE)(g < 0 ? 0 : g > 255 ? 255 : g);
            row[3 * x + 2] = (JSAMPLE)(b < 0 ? 0 : b > 255 ? 255 : b);
        }
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(row);
}

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : ".";
    char path[4096];
    snprintf(path, sizeof(path), "%s/sampling440_203x141.jpg", dir);
    write_jpeg(path, 203, 141, 1, 2, 0);
    snprintf(path, sizeof(path), "%s/sampling411_203x141.jpg", dir);
    write_jpeg(path, 203, 141, 4, 1, 0);
    snprintf(path, sizeof(path), "%s/sampling42_203x141.jpg", dir);
    write_jpeg(path, 203, 141, 4, 2, 0);
    snprintf(path, sizeof(path), "%s/sampling24_203x141.jpg", dir);
    write_jpeg(path, 203, 141, 2, 4, 0);
    snprintf(path, sizeof(path), "%s/progressive_dc_only_203x141.jpg", dir);
    write_jpeg(path, 203, 141, 2, 2, 1);
    return 0;
}
