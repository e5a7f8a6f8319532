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
#define LJ_ERROR_NOT_LOSSLESS 4 /* the transcode would change the pixels libjpeg decodes (lj_smooths_blocks) */

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
    int strict; /* corrupt-data warnings are errors: set by each entry point that reads a JPEG, for its own call */
} lj_error;

/* One Huffman table, derived for decoding: codes of up to LJ_LOOKAHEAD bits in one look-up, longer ones by length;
 * for AC tables, code and value together of up to LJ_COEF_LOOKAHEAD bits in one look-up. */
#define LJ_LOOKAHEAD 9
#ifndef LJ_COEF_LOOKAHEAD
#define LJ_COEF_LOOKAHEAD 10
#endif
typedef struct {
    uint16_t look[1 << LJ_LOOKAHEAD]; /* (length << 8) | symbol for every code of up to LJ_LOOKAHEAD bits; 0: longer */
    int32_t maxcode[17];              /* the largest code of each length, -1 when there is none */
    int32_t valoffset[17];            /* symbol index = code + valoffset[length] */
    uint8_t huffval[256];
    /* AC tables only: for every LJ_COEF_LOOKAHEAD-bit prefix that holds a whole coefficient (its code and value bits, or
     * a zero-size symbol: ZRL, end of block), (value << 16) | (run << 8) | bits used; 0 otherwise. Most coefficients
     * then take one look-up. */
    int32_t coefficient[1 << LJ_COEF_LOOKAHEAD];
} lj_huff_table;

/* The entropy decoder's bit reader. The next bit of the stream is bit 63 of `bits`; bits below the `count` valid
 * ones are zero. */
typedef struct {
    uint64_t bits;
    int count;
    int zeros;           /* how many of the valid bits are zeros appended at a marker or the end of the data */
    int at_marker;       /* next is at a marker (or the end): nothing more to read in this interval */
    const uint8_t* next; /* the next entropy-coded byte not yet in the bit buffer */
    const uint8_t* end;
} lj_bits;

/* Where one reader is in the entropy-coded data, with the state a restart marker resets. */
typedef struct {
    lj_bits br;
    unsigned int restarts_to_go;
    int next_restart;
    int32_t last_dc[MAX_COMPS_IN_SCAN];
    int skipping; /* the rest of this interval is being skipped */
} lj_stream;

/* lj_fast_decode_mcu's modes (loader_jpeg_set_fast_entropy). */
#define LJ_ENTROPY_LIBJPEG 0 /* libjpeg's own decoder */
#define LJ_ENTROPY_FAST 1    /* this file's decoder, one MCU after another */
#define LJ_ENTROPY_PAIRED 2  /* the same, two MCU rows at a time (the default; see lj_begin_pair) */

/* The ahead row's coefficients (lj_begin_pair) are held for one MCU row: no pairing for rows of more blocks. */
#define LJ_AHEAD_MAX_BLOCKS 65536

/* The restart-aware entropy decoder's state (see lj_fast_decode_mcu). */
typedef struct {
    lj_huff_table dc[NUM_HUFF_TBLS];
    lj_huff_table ac[NUM_HUFF_TBLS];
    const lj_huff_table* dc_of_block[D_MAX_BLOCKS_IN_MCU];
    const lj_huff_table* ac_of_block[D_MAX_BLOCKS_IN_MCU];
    int ac_needed[D_MAX_BLOCKS_IN_MCU];
    lj_stream now;   /* the reader of the MCU row libjpeg asks for */
    lj_stream ahead; /* while a row is paired, the reader of the row below it */
    int failed; /* the last decode stopped at corrupt data this decoder found */
    /* Where the next MCU lies, and the last MCU column the output needs (jpeg_crop_scanline: libjpeg
     * inverse-transforms no MCU right of it). The rest of an interval that lies wholly right of it in one row is
     * not decoded at all: the next restart marker is found by a byte scan instead (lj_interval_end). */
    unsigned int mcu_col;
    unsigned int mcu_row;
    unsigned int last_needed_col;
    /* Paired rows (lj_begin_pair): a row is decoded together with the row below it when both are needed. */
    int pair_rows;              /* the intervals tile the rows and the ahead buffer is there */
    unsigned int last_pair_row; /* the last MCU row libjpeg is sure to ask for: rows below it are not decoded ahead */
    int pairing;                /* row mcu_row is being decoded together with the next one */
    int ahead_ready;            /* row mcu_row was decoded with the row above: its blocks are in ahead_blocks */
    const uint8_t* ahead_start; /* the restart marker that begins the ahead row: where `now` must end its row */
    JBLOCK* ahead_blocks;       /* one MCU row of coefficients (blocks_in_MCU per MCU) */
    size_t ahead_capacity;      /* in blocks */
    unsigned int paired_rows;   /* MCU rows decoded in pairs by the last decode (loader_jpeg_paired_rows) */
    JBLOCK scratch;             /* where ACs that are not kept are written (lj_ac_target) */
} lj_entropy;

typedef struct {
    struct jpeg_decompress_struct cinfo; /* first: the entropy decoder finds its lj_decoder from cinfo */
    lj_error error;
    JSAMPLE* row;          /* one scanline of the cropped width (4 samples per pixel for CMYK) */
    size_t row_capacity;
    lj_entropy entropy;
    int fast_entropy;      /* LJ_ENTROPY_*: how files with restart intervals are entropy-decoded (loader_jpeg_set_fast_entropy) */
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
    d->fast_entropy = LJ_ENTROPY_PAIRED;
    return d;
}

void loader_jpeg_destroy(lj_decoder* d) {
    if (d == NULL) {
        return;
    }
    jpeg_destroy_decompress(&d->cinfo);
    free(d->row);
    free(d->entropy.ahead_blocks);
    free(d);
}

/* 0: libjpeg's own entropy decoder decodes every file (the tests' reference for the fast one); 1: the fast one, one
 * MCU after another; 2 (the default): the fast one, two MCU rows at a time where it can (lj_begin_pair). */
void loader_jpeg_set_fast_entropy(lj_decoder* d, int mode) {
    if (d != NULL) {
        d->fast_entropy = mode <= 0 ? LJ_ENTROPY_LIBJPEG : mode == 1 ? LJ_ENTROPY_FAST : LJ_ENTROPY_PAIRED;
    }
}

/* How many MCU rows the last decode read in pairs (diagnostics: benchmarks and tests see that pairing happened). */
int loader_jpeg_paired_rows(const lj_decoder* d) {
    return d != NULL ? (int)d->entropy.paired_rows : 0;
}

/* Every image starts on a new libjpeg decompress object. libjpeg keeps the quantization and Huffman tables an image
 * defined in the object for the images after it (abbreviated datastreams: tables sent once, images without them
 * later), and only aborting between images leaves them there: a JPEG that omits a table then decodes with the table
 * of whatever image this worker decoded before it, so its pixels depend on the loader's schedule, where a new
 * decoder would refuse it (a missing quantization table) or use the standard Huffman tables. The fuzz target found
 * this (tools/fuzz/native: the same bytes decoded differently by two decoders with different histories). The cost is
 * about 150 ns an image (measured here, create + source + destroy), against some 600 us to decode one. A create
 * that fails (out of memory) longjmps to the caller's handler with mem NULL (libjpeg's abort and destroy then return
 * at once) or with some modules missing; nothing uses the object again before the next lj_begin destroys it. */
static int lj_begin(lj_decoder* d, const uint8_t* data, size_t size) {
    jpeg_destroy_decompress(&d->cinfo);
    jpeg_create_decompress(&d->cinfo);
    d->cinfo.mem->max_memory_to_use = LJ_DECODE_MEMORY_LIMIT;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
    return jpeg_read_header(&d->cinfo, TRUE);
}

/* Headers are always read tolerantly (warnings such as "extraneous bytes before marker" are not errors): the header
 * the loader reads is the original file's. Strictness used to be decoder state, set before a decode and left there,
 * so a header read after a spliced (strict) decode was strict too, and whether a file with such a warning in its
 * header was a bad sample depended on the sample before it on the same worker (found by the fuzz target's check that
 * a reused decoder agrees with a new one). Now each entry point sets it for its own call. */
int loader_jpeg_read_header(lj_decoder* d, const uint8_t* data, size_t size, int* width, int* height,
                            int* components, char* message, int message_capacity) {
    d->error.strict = 0;
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
 * A Huffman entropy decoder for sequential JPEGs with restart intervals, installed in place of libjpeg's decode_mcu
 * for every such file (the splicer's sub-JPEGs, and whole files with restart intervals). Why: libjpeg-turbo (2.1) turns its fast Huffman path off for
 * every file with a restart interval (jdhuff.c, decode_mcu: `if (cinfo->restart_interval) usefast = 0`), so the
 * restart markers that let us decode only the crop's intervals also made each interval decode at the slow path's
 * speed; that path was about 60% of a spliced sample's time (perf, augment-bench). This one reads restart markers
 * itself and keeps a 64-bit bit buffer filled from the data in memory, so every symbol takes the fast path.
 *
 * It writes exactly the coefficients libjpeg's decoder writes (the same tables, zigzag order, DC prediction reset at
 * each restart; ACs not stored when libjpeg would not need them), so the pixels are the same; the splice tests
 * compare every pixel against libjpeg's own full decode. Every corrupt-data condition libjpeg would warn about
 * (a bad Huffman code, an interval that ends early, bytes left over before a restart marker, a wrong restart number)
 * is an error here, as strict mode makes it anyway; outside strict mode the file is then decoded again by libjpeg
 * alone, which tolerates them (loader_jpeg_decode_region).
 *
 * The decoder interface is libjpeg's (jpegint.h: start_pass, decode_mcu, insufficient_data; the same since IJG 6).
 * The header that defines it is not installed everywhere, so the struct is declared here.
 */
struct jpeg_entropy_decoder {
    void (*start_pass)(j_decompress_ptr cinfo);
    boolean (*decode_mcu)(j_decompress_ptr cinfo, JBLOCKROW* MCU_data);
    boolean insufficient_data;
};

/* Zigzag position -> natural position, with extra entries so that a corrupt run past the block's end lands on
 * coefficient 63, as in libjpeg (jutils.c, jpeg_natural_order: 16 of them), and so that an end of block taken from
 * the coefficient table (a jump of LJ_EOB_RUN, see lj_derive_coefficients) stores its zero in range too. */
#define LJ_EOB_RUN 80
static const uint8_t lj_natural_order[64 + LJ_EOB_RUN] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,
    6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31,
    39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

/* error_exit does not return (lj_error_exit longjmps). */
__attribute__((noreturn, cold)) static void lj_corrupt(j_decompress_ptr cinfo, int code, int parameter0, int parameter1) {
    ((lj_decoder*)cinfo)->entropy.failed = 1;
    cinfo->err->msg_code = code;
    cinfo->err->msg_parm.i[0] = parameter0;
    cinfo->err->msg_parm.i[1] = parameter1;
    (*cinfo->err->error_exit)((j_common_ptr)cinfo);
    abort();
}

/* The same derivation and checks as libjpeg's jpeg_make_d_derived_tbl (which has already accepted the table). */
static void lj_derive_table(j_decompress_ptr cinfo, const JHUFF_TBL* source, lj_huff_table* t) {
    if (source == NULL) {
        lj_corrupt(cinfo, JERR_NO_HUFF_TABLE, 0, 0);
    }
    memset(t->look, 0, sizeof(t->look));
    int p = 0;
    uint32_t code = 0;
    for (int length = 1; length <= 16; length++) {
        int n = source->bits[length];
        if (p + n > 256) {
            lj_corrupt(cinfo, JERR_BAD_HUFF_TABLE, 0, 0);
        }
        t->valoffset[length] = p - (int32_t)code;
        for (int i = 0; i < n; i++, p++, code++) {
            /* Checked before the code indexes the table (libjpeg's start_pass has refused such tables already:
             * this keeps the writes in bounds whatever reaches here; lj_derive_coefficients relies on it too). */
            if (code >= (1u << length)) {
                lj_corrupt(cinfo, JERR_BAD_HUFF_TABLE, 0, 0);
            }
            if (length <= LJ_LOOKAHEAD) {
                uint32_t first = code << (LJ_LOOKAHEAD - length);
                uint32_t count = 1u << (LJ_LOOKAHEAD - length);
                for (uint32_t k = 0; k < count; k++) {
                    t->look[first + k] = (uint16_t)((length << 8) | source->huffval[p]);
                }
            }
        }
        t->maxcode[length] = n > 0 ? (int32_t)code - 1 : -1;
        if (code >= (1u << length)) { /* libjpeg's check: no code may be all ones */
            lj_corrupt(cinfo, JERR_BAD_HUFF_TABLE, 0, 0);
        }
        code <<= 1;
    }
    memcpy(t->huffval, source->huffval, sizeof(t->huffval));
}

/* The AC coefficient table (see lj_huff_table.coefficient), from the derived look-up table. The zero-size symbols
 * are in it too, as a zero stored after a jump: ZRL (15 zeros, then the zero at the 16th: k += 15, as libjpeg) and
 * end of block (every other zero-size symbol, as in libjpeg's decoder): a jump of LJ_EOB_RUN, past the block's
 * end, which ends the coefficient loop; its zero lands on coefficient 63, which is still zero whenever an end of
 * block is read (a value stored at 63 ends the block). One look-up then ends most blocks, with no second branch. */
static void lj_derive_coefficients(const JHUFF_TBL* source, lj_huff_table* t) {
    memset(t->coefficient, 0, sizeof(t->coefficient));
    int p = 0;
    uint32_t code = 0;
    for (int length = 1; length <= 16 && length <= LJ_COEF_LOOKAHEAD; length++, code <<= 1) {
        for (int i = 0; i < source->bits[length]; i++, p++, code++) {
            int symbol = source->huffval[p], run = symbol >> 4, size = symbol & 15;
            uint32_t first = code << (LJ_COEF_LOOKAHEAD - length);
            if (size == 0) {
                int32_t entry = ((run == 15 ? 15 : LJ_EOB_RUN) << 8) | length;
                for (uint32_t k = 0; k < (1u << (LJ_COEF_LOOKAHEAD - length)); k++) {
                    t->coefficient[first + k] = entry;
                }
                continue;
            }
            if (length + size > LJ_COEF_LOOKAHEAD) {
                continue;
            }
            /* Every value of `size` bits after the code, each over the prefixes that continue it. */
            int spare = LJ_COEF_LOOKAHEAD - length - size;
            for (uint32_t bits = 0; bits < (1u << size); bits++) {
                int32_t v = (int32_t)bits;
                if (v < (1 << (size - 1))) {
                    v += 1 - (1 << size);
                }
                int32_t entry = (int32_t)((uint32_t)v << 16) | (run << 8) | (length + size);
                uint32_t base = first | (bits << spare);
                for (uint32_t k = 0; k < (1u << spare); k++) {
                    t->coefficient[base + k] = entry;
                }
            }
        }
    }
}

/* Tops the bit buffer up to at least 56 bits: eight bytes at a time when none of them is 0xFF, else byte by byte,
 * unstuffing 0xFF 0x00. Stops before a marker (or at the end of the data) and appends zeros from there, counting
 * them, so that reading past the interval's last real bit is detected (lj_check_zeros). */
static inline void lj_fill(lj_bits* br) {
    if (br->end - br->next >= 8) {
        uint64_t word;
        memcpy(&word, br->next, 8);
        word = __builtin_bswap64(word);
        uint64_t inverted = ~word; /* a 0xFF byte of word is a zero byte here */
        if (((inverted - 0x0101010101010101ull) & ~inverted & 0x8080808080808080ull) == 0) {
            int take = (63 - br->count) >> 3; /* whole bytes that fit: at least 4, the caller has under 32 bits */
            br->bits |= (word >> br->count) & ~(~0ull >> (br->count + 8 * take));
            br->next += take;
            br->count += 8 * take;
            return;
        }
    }
    while (br->count <= 56) {
        if (!br->at_marker) {
            if (br->next < br->end) {
                uint8_t c = *br->next;
                if (c != 0xFF) {
                    br->next++;
                    br->bits |= (uint64_t)c << (56 - br->count);
                    br->count += 8;
                    continue;
                }
                if (br->next + 1 < br->end && br->next[1] == 0) {
                    br->next += 2; /* a stuffed 0xFF data byte */
                    br->bits |= (uint64_t)0xFF << (56 - br->count);
                    br->count += 8;
                    continue;
                }
            }
            br->at_marker = 1;
        }
        br->count += 8;
        br->zeros += 8;
    }
}

/* One Huffman symbol. The caller has made sure that at least 32 bits are buffered (16 for the code, 16 to spare). */
static inline int lj_decode_symbol(j_decompress_ptr cinfo, lj_bits* br, const lj_huff_table* t) {
    uint32_t entry = t->look[br->bits >> (64 - LJ_LOOKAHEAD)];
    if (__builtin_expect(entry != 0, 1)) {
        int length = (int)(entry >> 8);
        br->bits <<= length;
        br->count -= length;
        return (int)(entry & 0xFF);
    }
    for (int length = LJ_LOOKAHEAD + 1; length <= 16; length++) {
        int32_t code = (int32_t)(br->bits >> (64 - length));
        if (code <= t->maxcode[length]) {
            br->bits <<= length;
            br->count -= length;
            return t->huffval[(code + t->valoffset[length]) & 0xFF];
        }
    }
    lj_corrupt(cinfo, JWRN_HUFF_BAD_CODE, 0, 0);
    return 0;
}

/* The next `size` (1..15) bits as a signed coefficient value (JPEG's EXTEND: a leading 0 bit means negative).
 * Without a branch: the sign is a coin toss, and a mispredicted branch per coefficient cost more than the rest. */
static inline int32_t lj_read_value(lj_bits* br, int size) {
    int32_t v = (int32_t)(br->bits >> (64 - size));
    int32_t positive = (int32_t)((int64_t)br->bits >> 63); /* -1 when the leading bit is 1 */
    br->bits <<= size;
    br->count -= size;
    return v + (~positive & (int32_t)(1u - (1u << size)));
}

/* The first 0xFF at or after p that is not stuffing (0xFF 0x00): where the entropy-coded data before a marker ends
 * (end when there is none). */
static const uint8_t* lj_next_marker(const uint8_t* p, const uint8_t* end) {
    for (;;) {
        p = (const uint8_t*)memchr(p, 0xFF, (size_t)(end - p));
        if (p == NULL) {
            return end;
        }
        if (p + 1 < end && p[1] == 0) {
            p += 2;
            continue;
        }
        return p;
    }
}

/* At the end of an interval: at most the padding (under a byte) may be left. Returns where the marker after it
 * begins. A skipped tail (lj_mcu_wanted) ends at the next marker; the bit buffer never reads past it (lj_fill stops
 * there). */
static const uint8_t* lj_interval_end(j_decompress_ptr cinfo, lj_stream* s) {
    lj_bits* br = &s->br;
    if (s->skipping) {
        br->next = lj_next_marker(br->next, br->end);
        br->count = 0;
        br->zeros = 0;
        br->at_marker = 1;
        s->skipping = 0;
    }
    if (!br->at_marker || br->count - br->zeros >= 8) {
        lj_corrupt(cinfo, JWRN_EXTRANEOUS_DATA, (br->count - br->zeros) / 8, 0xD0 + s->next_restart);
    }
    return br->next;
}

/* At the end of an interval: the padding, then RSTn with the expected n; the next interval starts afresh. */
static void lj_restart(j_decompress_ptr cinfo, lj_stream* s) {
    lj_bits* br = &s->br;
    const uint8_t* marker = lj_interval_end(cinfo, s);
    const uint8_t* p = marker;
    while (p < br->end && *p == 0xFF) {
        p++;
    }
    if (p == marker || p >= br->end || *p != 0xD0 + s->next_restart) {
        lj_corrupt(cinfo, JWRN_MUST_RESYNC, p < br->end ? *p : 0, s->next_restart);
    }
    br->next = p + 1;
    br->bits = 0;
    br->count = 0;
    br->zeros = 0;
    br->at_marker = 0;
    s->next_restart = (s->next_restart + 1) & 7;
    s->restarts_to_go = cinfo->restart_interval;
    memset(s->last_dc, 0, sizeof(s->last_dc));
}

/* Whether MCU `col` of stream s is to be decoded: reads the restart marker before it, and skips the rest of an
 * interval that lies wholly right of the last needed column in its row. (Intervals that run on into the next row
 * are decoded: that row's first MCUs are needed.) A skipped MCU is left as libjpeg zeroed it; nothing reads its
 * coefficients. */
static inline int lj_mcu_wanted(j_decompress_ptr cinfo, lj_entropy* e, lj_stream* s, unsigned int col) {
    if (cinfo->restart_interval != 0) {
        if (s->restarts_to_go == 0) {
            lj_restart(cinfo, s);
        }
        s->restarts_to_go--;
    }
    if (s->skipping) {
        return 0;
    }
    if (col > e->last_needed_col && cinfo->restart_interval != 0 && col + s->restarts_to_go < cinfo->MCUs_per_row) {
        s->skipping = 1;
        return 0;
    }
    return 1;
}

/* A block's DC coefficient: the difference to the component's last one. The caller has buffered 32 bits. */
static inline void lj_decode_dc(j_decompress_ptr cinfo, lj_bits* br, const lj_huff_table* dc, int32_t* last_dc,
                                JCOEF* block) {
    int s = lj_decode_symbol(cinfo, br, dc);
    int32_t diff = s != 0 ? lj_read_value(br, s) : 0;
    /* Unsigned: a corrupt stream of +-2047 differences may wrap, harmlessly, as libjpeg's int does. */
    *last_dc = (int32_t)((uint32_t)*last_dc + (uint32_t)diff);
    if (block != NULL) {
        block[0] = (JCOEF)*last_dc;
    }
}

/* One AC symbol of a block at zigzag position k (1..63); returns the position after it, 64 or more at the block's end.
 * The value is always stored (no branch per symbol): where libjpeg keeps no ACs, the caller passes a scratch block. */
static inline int lj_decode_ac(j_decompress_ptr cinfo, lj_bits* br, const lj_huff_table* ac, JCOEF* block, int k) {
    if (br->count < 32) {
        lj_fill(br);
    }
    int32_t whole = ac->coefficient[br->bits >> (64 - LJ_COEF_LOOKAHEAD)];
    if (whole != 0) {
        int used = whole & 0xFF;
        br->bits <<= used;
        br->count -= used;
        k += (whole >> 8) & 0xFF;
        block[lj_natural_order[k]] = (JCOEF)(whole >> 16);
        return k + 1;
    }
    int s = lj_decode_symbol(cinfo, br, ac);
    int run = s >> 4;
    s &= 15;
    if (s != 0) {
        k += run;
        block[lj_natural_order[k]] = (JCOEF)lj_read_value(br, s);
        return k + 1;
    }
    return run == 15 ? k + 16 : 64; /* ZRL: 16 zeros; any other zero-size symbol: end of block */
}

/* Where block n's ACs go: the block, or the scratch block when the block is not stored (a skipped row) or libjpeg
 * keeps no ACs for its component (1/8 scale). */
static inline JCOEF* lj_ac_target(lj_entropy* e, JCOEF* block, int n) {
    return block != NULL && e->ac_needed[n] ? block : e->scratch;
}

/* Reading a zero appended past the last real bit means the interval's data ended before its MCUs did. */
static inline void lj_check_zeros(j_decompress_ptr cinfo, const lj_bits* br) {
    if (br->count < br->zeros) {
        lj_corrupt(cinfo, JWRN_HIT_MARKER, 0, 0);
    }
}

/* One MCU of stream s into blocks (NULL: decoded, not stored). */
static void lj_decode_one(j_decompress_ptr cinfo, lj_entropy* e, lj_stream* s, JBLOCKROW* blocks) {
    lj_bits br = s->br; /* a local copy the compiler keeps in registers */
    for (int b = 0; b < cinfo->blocks_in_MCU; b++) {
        JCOEF* block = blocks != NULL ? blocks[b][0] : NULL;
        if (br.count < 32) {
            lj_fill(&br);
        }
        lj_decode_dc(cinfo, &br, e->dc_of_block[b], &s->last_dc[cinfo->MCU_membership[b]], block);
        const lj_huff_table* ac = e->ac_of_block[b];
        JCOEF* target = lj_ac_target(e, block, b);
        for (int k = 1; k < 64;) {
            k = lj_decode_ac(cinfo, &br, ac, target, k);
        }
    }
    lj_check_zeros(cinfo, &br);
    s->br = br;
}

/* The MCU in the same column of two streams (two rows), symbol by symbol in turn: each symbol's decode waits on the
 * one before it in its own stream (the bit position), so one stream alone leaves most of the CPU idle; two
 * independent ones fill it. `ahead` is the second stream's row buffer (stored always). */
static void lj_decode_two(j_decompress_ptr cinfo, lj_entropy* e, JBLOCKROW* blocks, JBLOCK* ahead) {
    lj_bits a = e->now.br, b = e->ahead.br;
    for (int n = 0; n < cinfo->blocks_in_MCU; n++) {
        JCOEF* block_a = blocks != NULL ? blocks[n][0] : NULL;
        JCOEF* block_b = ahead[n];
        int ci = cinfo->MCU_membership[n];
        if (a.count < 32) {
            lj_fill(&a);
        }
        if (b.count < 32) {
            lj_fill(&b);
        }
        lj_decode_dc(cinfo, &a, e->dc_of_block[n], &e->now.last_dc[ci], block_a);
        lj_decode_dc(cinfo, &b, e->dc_of_block[n], &e->ahead.last_dc[ci], block_b);
        const lj_huff_table* ac = e->ac_of_block[n];
        JCOEF* target_a = lj_ac_target(e, block_a, n);
        JCOEF* target_b = lj_ac_target(e, block_b, n);
        int ka = 1, kb = 1;
        while (ka < 64 && kb < 64) {
            ka = lj_decode_ac(cinfo, &a, ac, target_a, ka);
            kb = lj_decode_ac(cinfo, &b, ac, target_b, kb);
        }
        while (ka < 64) {
            ka = lj_decode_ac(cinfo, &a, ac, target_a, ka);
        }
        while (kb < 64) {
            kb = lj_decode_ac(cinfo, &b, ac, target_b, kb);
        }
    }
    lj_check_zeros(cinfo, &a);
    lj_check_zeros(cinfo, &b);
    e->now.br = a;
    e->ahead.br = b;
}

/*
 * Pairs MCU row mcu_row with the row below it, at the row's first MCU: a second reader starts at the restart marker
 * that begins the next row (found by a byte scan over this row's intervals), and each MCU of this row is decoded
 * together with the MCU below it (lj_decode_two), whose coefficients wait in ahead_blocks until libjpeg asks for that
 * row. Where the scan finds no such marker (corrupt data, the image's last row) the row is decoded alone, and the
 * decoder reports what is wrong when it gets there. When this row ends, its reader must end exactly at that marker
 * (lj_end_pair): every interval is still checked as lj_restart checks it.
 *
 * Only when the intervals tile the rows (make-records and the splicer write nothing else) and both rows are needed:
 * a row libjpeg does not ask for is never decoded, so corrupt data below the region cannot fail a decode.
 */
static void lj_begin_pair(j_decompress_ptr cinfo, lj_entropy* e) {
    lj_stream* now = &e->now;
    if (now->restarts_to_go == 0) {
        lj_restart(cinfo, now);
    }
    if (now->br.count != 0 || now->restarts_to_go != cinfo->restart_interval) {
        return; /* not at an interval's first bit: the row does not begin an interval */
    }
    unsigned int intervals = cinfo->MCUs_per_row / cinfo->restart_interval;
    const uint8_t* end = now->br.end;
    const uint8_t* p = now->br.next;
    for (unsigned int i = 0;; i++) {
        p = lj_next_marker(p, end);
        if (p == end) {
            return;
        }
        if (i + 1 == intervals) {
            break;
        }
        while (p < end && *p == 0xFF) {
            p++;
        }
        if (p >= end || *p < 0xD0 || *p > 0xD7) {
            return;
        }
        p++;
    }
    lj_stream* ahead = &e->ahead;
    memset(ahead, 0, sizeof(*ahead));
    ahead->br.next = p;
    ahead->br.end = end;
    ahead->br.at_marker = 1; /* at the marker: its first MCU reads it (lj_restart) */
    ahead->restarts_to_go = 0;
    ahead->next_restart = (int)((now->next_restart + intervals - 1) & 7);
    e->ahead_start = p;
    memset(e->ahead_blocks, 0, (size_t)cinfo->MCUs_per_row * (size_t)cinfo->blocks_in_MCU * sizeof(JBLOCK));
    e->pairing = 1;
    e->paired_rows += 2;
}

/* The paired row's last MCU is decoded: its reader must have ended where the ahead row begins, and the ahead reader
 * (now at the end of the ahead row) carries on from there. */
static void lj_end_pair(j_decompress_ptr cinfo, lj_entropy* e) {
    const uint8_t* marker = lj_interval_end(cinfo, &e->now);
    if (marker != e->ahead_start) {
        lj_corrupt(cinfo, JWRN_EXTRANEOUS_DATA, (int)(e->ahead_start - marker), 0xD0 + e->now.next_restart);
    }
    e->now = e->ahead;
    e->pairing = 0;
    e->ahead_ready = 1;
}

static boolean lj_fast_decode_mcu(j_decompress_ptr cinfo, JBLOCKROW* MCU_data) {
    lj_entropy* e = &((lj_decoder*)cinfo)->entropy;
    unsigned int col = e->mcu_col;
    int row_end = col + 1 == cinfo->MCUs_per_row;
    e->mcu_col = row_end ? 0 : col + 1;
    if (e->ahead_ready) {
        if (MCU_data != NULL) {
            const JBLOCK* decoded = e->ahead_blocks + (size_t)col * (size_t)cinfo->blocks_in_MCU;
            for (int b = 0; b < cinfo->blocks_in_MCU; b++) {
                memcpy(MCU_data[b], decoded[b], sizeof(JBLOCK));
            }
        }
        if (row_end) {
            e->ahead_ready = 0;
            e->mcu_row++;
        }
        return TRUE;
    }
    if (col == 0 && e->pair_rows && e->mcu_row < e->last_pair_row) {
        lj_begin_pair(cinfo, e);
    }
    int wanted = lj_mcu_wanted(cinfo, e, &e->now, col);
    if (e->pairing) {
        /* The two rows have the same intervals column for column (they tile the rows), so the ahead reader reads its
         * restart markers and skips its tail at exactly the MCUs this one does: one answer serves both. */
        (void)lj_mcu_wanted(cinfo, e, &e->ahead, col);
        if (wanted) {
            lj_decode_two(cinfo, e, MCU_data, e->ahead_blocks + (size_t)col * (size_t)cinfo->blocks_in_MCU);
        }
        if (row_end) {
            lj_end_pair(cinfo, e);
        }
    } else if (wanted) {
        lj_decode_one(cinfo, e, &e->now, MCU_data);
    }
    if (row_end) {
        e->mcu_row++;
    }
    cinfo->src->next_input_byte = e->now.br.next;
    cinfo->src->bytes_in_buffer = (size_t)(e->now.br.end - e->now.br.next);
    return TRUE;
}

/* Replaces libjpeg's decode_mcu when the scan is one that the decoder above handles (sequential, 8-bit, Huffman,
 * every component in one scan). Called after jpeg_start_decompress, before any MCU is read: the data source is at
 * the first entropy-coded byte and libjpeg has already checked the tables. */
static void lj_install_fast_entropy(lj_decoder* d) {
    struct jpeg_decompress_struct* cinfo = &d->cinfo;
    if (cinfo->progressive_mode || cinfo->arith_code || cinfo->data_precision != 8 || cinfo->entropy == NULL ||
        cinfo->comps_in_scan != cinfo->num_components || cinfo->comps_in_scan > MAX_COMPS_IN_SCAN ||
        cinfo->blocks_in_MCU > D_MAX_BLOCKS_IN_MCU || cinfo->Ss != 0 || cinfo->Se != DCTSIZE2 - 1 ||
        cinfo->src->bytes_in_buffer == 0) {
        return;
    }
    lj_entropy* e = &d->entropy;
    int derived_dc = 0, derived_ac = 0; /* bit masks of the tables derived for this image */
    for (int b = 0; b < cinfo->blocks_in_MCU; b++) {
        jpeg_component_info* component = cinfo->cur_comp_info[cinfo->MCU_membership[b]];
        int dc = component->dc_tbl_no, ac = component->ac_tbl_no;
        if (dc < 0 || dc >= NUM_HUFF_TBLS || ac < 0 || ac >= NUM_HUFF_TBLS) {
            return;
        }
        if (!(derived_dc & (1 << dc))) {
            lj_derive_table(cinfo, cinfo->dc_huff_tbl_ptrs[dc], &e->dc[dc]);
            derived_dc |= 1 << dc;
        }
        if (!(derived_ac & (1 << ac))) {
            lj_derive_table(cinfo, cinfo->ac_huff_tbl_ptrs[ac], &e->ac[ac]);
            lj_derive_coefficients(cinfo->ac_huff_tbl_ptrs[ac], &e->ac[ac]);
            derived_ac |= 1 << ac;
        }
        e->dc_of_block[b] = &e->dc[dc];
        e->ac_of_block[b] = &e->ac[ac];
        /* libjpeg's rule (jdhuff.c, start_pass_huff_decoder): no ACs for a 1/8-size component. */
        e->ac_needed[b] = component->component_needed && component->DCT_scaled_size > 1;
    }
    memset(&e->now, 0, sizeof(e->now));
    e->now.br.next = cinfo->src->next_input_byte;
    e->now.br.end = e->now.br.next + cinfo->src->bytes_in_buffer;
    e->now.restarts_to_go = cinfo->restart_interval;
    e->mcu_col = 0;
    e->mcu_row = 0;
    e->last_needed_col = cinfo->MCUs_per_row - 1;
    e->pairing = 0;
    e->ahead_ready = 0;
    e->paired_rows = 0;
    e->last_pair_row = cinfo->MCU_rows_in_scan > 0 ? cinfo->MCU_rows_in_scan - 1 : 0;
    e->pair_rows = 0;
    size_t row_blocks = (size_t)cinfo->MCUs_per_row * (size_t)cinfo->blocks_in_MCU;
    if (d->fast_entropy == LJ_ENTROPY_PAIRED && cinfo->restart_interval != 0 &&
        cinfo->MCUs_per_row % cinfo->restart_interval == 0 && row_blocks <= LJ_AHEAD_MAX_BLOCKS) {
        if (row_blocks > e->ahead_capacity) {
            free(e->ahead_blocks);
            e->ahead_blocks = (JBLOCK*)malloc(row_blocks * sizeof(JBLOCK));
            e->ahead_capacity = e->ahead_blocks != NULL ? row_blocks : 0;
        }
        e->pair_rows = e->ahead_blocks != NULL; /* without the buffer, rows are decoded one at a time */
    }
    cinfo->entropy->decode_mcu = lj_fast_decode_mcu;
}

/*
 * Whether libjpeg smooths this progressive file's blocks (block smoothing, on by default: done for a file whose first
 * ACs are not all sent, such as a DC-only scan or a missing refinement, which is legal and decodes without a
 * warning): it estimates the missing ACs from the neighbouring blocks' DC values. jpeg_start_decompress or
 * jpeg_read_coefficients has read the whole file, so coef_bits is final; smoothing_ok (jdcoefct.c) smooths when any of
 * a component's first nine ACs is not exact.
 */
static int lj_smooths_blocks(j_decompress_ptr cinfo) {
    if (!cinfo->progressive_mode || !cinfo->do_block_smoothing || cinfo->coef_bits == NULL) {
        return 0;
    }
    for (int ci = 0; ci < cinfo->num_components; ci++) {
        for (int k = 1; k <= 9; k++) {
            if (cinfo->coef_bits[ci][k] != 0) {
                return 1;
            }
        }
    }
    return 0;
}

/*
 * Whether jpeg_crop_scanline gives the same pixels as a full-width decode. Not in two cases, where the image is
 * decoded at full width and the region copied out instead (no common file is either):
 * - Before libjpeg-turbo 3.0 (Debian 12 ships 2.1.5): where libjpeg lets a larger inverse DCT stand in for part of a
 *   component's upsampling (4x2- and 2x4-subsampled JPEGs at 2/8 to 7/8: jdmaster.c enlarges the chroma's DCT),
 *   jpeg_crop_scanline sets the component's downsampled_width as if it did not, so the fancy upsampler fills only
 *   part of each cropped row and the colour converter reads uninitialized memory into the pixels (libjpeg-turbo issue
 *   669). 4:2:0 at 4/8 gets a larger chroma DCT too, but no upsampling is left for it to get wrong; at 1/8 fancy
 *   upsampling is off.
 * - Block smoothing (lj_smooths_blocks): jdcoefct.c's decompress_smooth_data takes the DC values left of a cropped
 *   row's first block from that block itself, so the first iMCU column differs from the full decode's (libjpeg-turbo
 *   3.1 still does).
 */
static int lj_crop_keeps_pixels(j_decompress_ptr cinfo) {
    for (int ci = 0; ci < cinfo->num_components; ci++) {
        const jpeg_component_info* c = &cinfo->comp_info[ci];
        if (c->DCT_scaled_size == cinfo->min_DCT_scaled_size) {
            continue;
        }
        /* jdsample.c's in-to-out ratio: upsampling is left when the scaled component is still smaller than the output. */
        int h_in = c->h_samp_factor * c->DCT_scaled_size / cinfo->min_DCT_scaled_size;
        int v_in = c->v_samp_factor * c->DCT_scaled_size / cinfo->min_DCT_scaled_size;
        if (h_in != cinfo->max_h_samp_factor || v_in != cinfo->max_v_samp_factor) {
            return 0;
        }
    }
    return !lj_smooths_blocks(cinfo);
}

/*
 * Decodes the rectangle [x, x + w) x [y, y + h) of the image scaled by scale_num/8 (coordinates in the scaled
 * image, whose size is ceil(width * scale_num / 8) x ceil(height * scale_num / 8), returned in scaled_width and
 * scaled_height) into out as RGB, rows out_stride bytes apart.
 *
 * libjpeg can only start a row at an iMCU boundary, so each row may begin *left_pad pixels before x (at most 33):
 * pixel x of the image lands at out + row * out_stride + *left_pad * 3. Rows are decoded straight into out when
 * out_stride holds the padded row (w + 33 pixels always does for a cropped row: the left pad and one pixel past the
 * right edge; the full-width rows of the images lj_crop_keeps_pixels excludes, only when the image is that narrow);
 * otherwise (and for CMYK) through a scanline buffer, with *left_pad = 0.
 */
static int lj_decode_region(lj_decoder* d, int fast, const uint8_t* data, size_t size, int scale_num, int x, int y,
                            int w, int h, uint8_t* out, size_t out_stride, size_t out_capacity, int* left_pad,
                            int* scaled_width, int* scaled_height, char* message, int message_capacity);

/* strict: every corrupt-data warning (bad Huffman code, an interval that ends early or late, extraneous bytes,
 * resynchronization) fails the decode. For sub-JPEGs the loader built itself: their markers are all well formed, so
 * such a warning means a corrupt restart interval, and the sample is reported bad rather than decoded with grey
 * blocks. Otherwise warnings are tolerated as PIL tolerates them (but running out of data, lj_emit_message). */
int loader_jpeg_decode_region(lj_decoder* d, const uint8_t* data, size_t size, int strict, int scale_num, int x, int y,
                              int w, int h, uint8_t* out, size_t out_stride, size_t out_capacity, int* left_pad,
                              int* scaled_width, int* scaled_height, char* message, int message_capacity) {
    d->error.strict = strict != 0;
    int rc = lj_decode_region(d, d->fast_entropy, data, size, scale_num, x, y, w, h, out, out_stride, out_capacity, left_pad,
                              scaled_width, scaled_height, message, message_capacity);
    /* The fast entropy decoder calls every corrupt-data condition an error; outside strict mode libjpeg tolerates
     * some of them (as PIL does), so the file is decoded again by libjpeg alone. Only corrupt files pay for this. */
    if (rc == LJ_ERROR_JPEG && d->entropy.failed && !d->error.strict) {
        rc = lj_decode_region(d, 0, data, size, scale_num, x, y, w, h, out, out_stride, out_capacity, left_pad,
                              scaled_width, scaled_height, message, message_capacity);
    }
    return rc;
}

static int lj_decode_region(lj_decoder* d, int fast, const uint8_t* data, size_t size, int scale_num, int x, int y,
                            int w, int h, uint8_t* out, size_t out_stride, size_t out_capacity, int* left_pad,
                            int* scaled_width, int* scaled_height, char* message, int message_capacity) {
    struct jpeg_decompress_struct* cinfo = &d->cinfo;
    d->entropy.failed = 0;
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
    if (fast && cinfo->restart_interval != 0) {
        lj_install_fast_entropy(d);
    }
    *scaled_width = (int)cinfo->output_width;
    *scaled_height = (int)cinfo->output_height;
    if ((JDIMENSION)x + (JDIMENSION)w > cinfo->output_width || (JDIMENSION)y + (JDIMENSION)h > cinfo->output_height) {
        lj_set_message(d, message, message_capacity, "decode rectangle lies outside the scaled image");
        jpeg_abort_decompress(cinfo);
        return LJ_ERROR_ARGUMENT;
    }
    if (cinfo->entropy->decode_mcu == lj_fast_decode_mcu) {
        /* The last MCU row libjpeg must decode: the one that holds the region's last line (an iMCU row is
         * max_v_samp_factor blocks of min_DCT_scaled_size lines; a one-component scan has v_samp_factor MCU rows in
         * it). Rows below it are never decoded ahead (lj_begin_pair). */
        unsigned int imcu_lines = (unsigned int)(cinfo->max_v_samp_factor * cinfo->min_DCT_scaled_size);
        unsigned int mcu_rows = cinfo->comps_in_scan == 1 ? (unsigned int)cinfo->cur_comp_info[0]->v_samp_factor : 1;
        unsigned int last = ((unsigned int)(y + h - 1) / imcu_lines + 1) * mcu_rows - 1;
        if (last < d->entropy.last_pair_row) {
            d->entropy.last_pair_row = last;
        }
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
    if (crop_w < cinfo->output_width && !lj_crop_keeps_pixels(cinfo)) {
        crop_x = 0; /* rows of the full width (left pad x, below, when they fit the stride; else copied out) */
        crop_w = cinfo->output_width;
    }
    if (crop_w < cinfo->output_width) {
        jpeg_crop_scanline(cinfo, &crop_x, &crop_w);
        if (cinfo->entropy->decode_mcu == lj_fast_decode_mcu) {
            /* jpeg_crop_scanline's own last_iMCU_col (jdapistd.c): libjpeg inverse-transforms no MCU right of it. */
            unsigned int align = (unsigned int)cinfo->min_DCT_scaled_size;
            if (!(cinfo->comps_in_scan == 1 && cinfo->num_components == 1)) {
                align *= (unsigned int)cinfo->max_h_samp_factor;
            }
            d->entropy.last_needed_col = (crop_x + crop_w + align - 1) / align - 1;
        }
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
 * The transcoder's output: one malloc'd buffer that grows as libjpeg fills it, owned here. (jpeg_mem_dest frees a
 * buffer it outgrows and tells the caller the new one only when compression ends, so an error in between left the
 * error path holding, and freeing, the buffer libjpeg had already freed: a double free, found by fuzzing with an
 * instrumented libjpeg-turbo, through a JPEG whose metadata outgrew the first buffer and whose coefficients were out
 * of range.)
 */
typedef struct {
    struct jpeg_destination_mgr pub;
    uint8_t* buffer;
    size_t capacity;
    size_t size; /* the bytes written, once compression has ended */
} lj_output;

static void lj_output_start(j_compress_ptr cinfo) {
    lj_output* o = (lj_output*)cinfo->dest;
    o->pub.next_output_byte = o->buffer;
    o->pub.free_in_buffer = o->capacity;
}

/* libjpeg calls this with the whole buffer full: it doubles, up to the transcoder's memory limit. */
static boolean lj_output_grow(j_compress_ptr cinfo) {
    lj_output* o = (lj_output*)cinfo->dest;
    size_t limit = (size_t)LJ_TRANSCODE_MEMORY_LIMIT;
    size_t capacity = o->capacity < limit / 2 ? o->capacity * 2 : limit;
    uint8_t* grown = capacity > o->capacity ? (uint8_t*)realloc(o->buffer, capacity) : NULL;
    if (grown == NULL) {
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 10); /* the old buffer is still o->buffer, freed by the caller */
    }
    o->buffer = grown;
    o->pub.next_output_byte = grown + o->capacity;
    o->pub.free_in_buffer = capacity - o->capacity;
    o->capacity = capacity;
    return TRUE;
}

static void lj_output_end(j_compress_ptr cinfo) {
    lj_output* o = (lj_output*)cinfo->dest;
    o->size = o->capacity - o->pub.free_in_buffer;
}

typedef struct {
    struct jpeg_decompress_struct src;
    struct jpeg_compress_struct dst;
    lj_error error;
    lj_output output;
    int have_src;
    int have_dst;
} lj_transcoder;

static void lj_transcoder_release(lj_transcoder* t) {
    free(t->output.buffer);
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

/* The most metadata segments (APPn, COM) a transcode keeps. libjpeg-turbo before 3.0.4 (Debian 12 ships 2.1.5) appends
 * each marker it saves by walking its list from the head, so saving n of them costs n * n / 2 steps: 40,000 empty
 * APP1 segments (160 KB) took 1.7 s here, a 10 MB file of them would take hours. Real files hold a few dozen at most
 * (an ICC profile is at most 255 APP2 chunks). */
#define LJ_MAX_METADATA_SEGMENTS 1024

/* How many APPn and COM segments the JPEG holds: a walk over its segments as libjpeg reads them (each marker's length
 * skips its payload; entropy-coded data, which holds no marker but RSTn, up to its next marker: lj_next_marker). */
static size_t lj_count_metadata_segments(const uint8_t* data, size_t size) {
    size_t count = 0;
    size_t i = 2; /* after SOI */
    while (i + 1 < size) {
        if (data[i] != 0xFF) {
            i = (size_t)(lj_next_marker(data + i, data + size) - data);
            continue;
        }
        uint8_t code = data[i + 1];
        if (code == 0xFF) {
            i++; /* a fill byte before a marker */
            continue;
        }
        if (code < 0xC0 || (code >= 0xD0 && code <= 0xD8)) {
            /* Stuffing, TEM, RSTn, SOI: no length. The reserved codes below 0xC0 neither: libjpeg refuses them in
             * the header and, met in entropy-coded data where a restart marker was due, discards the two bytes and
             * reads on (jdmarker.c, jpeg_resync_to_restart), so a length after one must not hide what follows. */
            i += 2;
            continue;
        }
        if (code == 0xD9 || i + 3 >= size) {
            break;
        }
        if ((code >= 0xE0 && code <= 0xEF) || code == 0xFE) {
            count++;
        }
        i += 2 + (((size_t)data[i + 2] << 8) | data[i + 3]);
    }
    return count;
}

/*
 * Lossless restart-interval transcoding (what `jpegtran -optimize -restart N -copy all` does): reads the quantized DCT
 * coefficients of a baseline or progressive Huffman JPEG and writes them again as a baseline JPEG with a restart
 * marker every restart_mcus MCUs and optimized Huffman tables. Pixels decode exactly as before. With copy_markers,
 * APPn and COM markers are copied (except the JFIF and Adobe markers libjpeg writes itself); without, only those two
 * are written (what `jpegtran -copy none` does). On success *out is a malloc'd buffer of
 * *out_size bytes that the caller releases with loader_jpeg_free. LJ_ERROR_NOT_LOSSLESS: the file reads, but libjpeg
 * decodes it with block smoothing (lj_smooths_blocks), which no baseline file can ask for.
 */
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
    size_t segments = copy_markers ? lj_count_metadata_segments(data, size) : 0;
    if (segments > LJ_MAX_METADATA_SEGMENTS) {
        if (message != NULL && message_capacity > 0) {
            snprintf(message, (size_t)message_capacity,
                     "%zu metadata segments (APPn, COM), more than the %d that are kept (transcode without metadata)",
                     segments, LJ_MAX_METADATA_SEGMENTS);
        }
        return LJ_ERROR_JPEG;
    }
    lj_transcoder* volatile t = (lj_transcoder*)calloc(1, sizeof(lj_transcoder));
    if (t == NULL) {
        return LJ_ERROR_MEMORY;
    }
    /* 4 KB, as jpeg_mem_dest starts: the output grows a few times for a typical image, so every transcode takes the
     * growth path (and the corpus's error-after-growth input with it). */
    t->output.capacity = 4096;
    t->output.buffer = (uint8_t*)malloc(t->output.capacity);
    if (t->output.buffer == NULL) {
        free(t);
        return LJ_ERROR_MEMORY;
    }
    t->error.message = message;
    t->error.message_capacity = message_capacity;
    t->src.err = jpeg_std_error(&t->error.pub);
    t->dst.err = &t->error.pub;
    t->error.pub.error_exit = lj_error_exit;
    t->error.pub.emit_message = lj_emit_message;
    if (setjmp(t->error.jump)) {
        lj_transcoder_release(t);
        free(t);
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
    if (lj_smooths_blocks(&t->src)) {
        /* A baseline file carries no "smooth me": its decode would lose the estimated ACs. */
        lj_set_message(NULL, message, message_capacity,
                       "a progressive JPEG whose first AC coefficients are not all sent: libjpeg smooths its blocks "
                       "when decoding it, which a baseline file cannot carry, so transcoding would change its pixels");
        lj_transcoder_release(t);
        free(t);
        return LJ_ERROR_NOT_LOSSLESS;
    }

    jpeg_create_compress(&t->dst);
    t->have_dst = 1;
    t->dst.mem->max_memory_to_use = LJ_TRANSCODE_MEMORY_LIMIT;
    jpeg_copy_critical_parameters(&t->src, &t->dst);
    t->dst.restart_interval = (unsigned int)restart_mcus;
    t->dst.restart_in_rows = 0;
    t->dst.optimize_coding = TRUE;
    t->output.pub.init_destination = lj_output_start;
    t->output.pub.empty_output_buffer = lj_output_grow;
    t->output.pub.term_destination = lj_output_end;
    t->dst.dest = &t->output.pub;
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

    *out = t->output.buffer;
    *out_size = t->output.size;
    t->output.buffer = NULL; /* the caller's now (loader_jpeg_free) */
    lj_transcoder_release(t);
    free(t);
    return LJ_OK;
}

void loader_jpeg_free(uint8_t* buffer) {
    free(buffer);
}
