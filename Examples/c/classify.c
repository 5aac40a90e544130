/*
 * classify: run a .qmodel on one raw RGB frame with libquanta and print the top 5.
 *
 *   classify MODEL.qmodel FRAME.rgb WIDTH HEIGHT [MEAN STD]
 *
 * FRAME.rgb holds WIDTH x HEIGHT pixels of 3 bytes (R, G, B), row after row (what a
 * camera pipeline or `ffmpeg -pix_fmt rgb24 -f rawvideo` gives). Each pixel is resized
 * (nearest) to the model input's H x W, converted to the model's channels (3: RGB;
 * 1: luma 0.299 R + 0.587 G + 0.114 B), normalized as (value / 255 - MEAN) / STD
 * (default 0 and 1) and quantized with the input's scale and zero point. The model's
 * first output, dequantized, is printed as its 5 largest scores. With QUANTA_PROFILE=1 in
 * the environment the plan runs op by op (quanta_invoke_ops) and each op's time goes to
 * stderr.
 *
 * Memory: the model file and the arena are allocated once at start; quanta_invoke
 * allocates nothing. Exit status 0, or 1 with a message on stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quanta.h"

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n <= 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    void *bytes = NULL;
    /* The model is read in place: 16-byte alignment (64 for cache lines). */
    if (posix_memalign(&bytes, 64, (size_t)n) != 0) { fclose(f); return NULL; }
    if (fread(bytes, 1, (size_t)n, f) != (size_t)n) { free(bytes); fclose(f); return NULL; }
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "classify: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: classify MODEL.qmodel FRAME.rgb WIDTH HEIGHT [MEAN STD]\n");
        return 2;
    }
    const long width = strtol(argv[3], NULL, 10), height = strtol(argv[4], NULL, 10);
    const float mean = argc == 7 ? strtof(argv[5], NULL) : 0.0f, std = argc == 7 ? strtof(argv[6], NULL) : 1.0f;
    if (width <= 0 || height <= 0 || width > 1 << 14 || height > 1 << 14 || !(std != 0.0f)) {
        return fail("bad WIDTH, HEIGHT or STD", NULL);
    }

    size_t model_size = 0, frame_size = 0;
    void *model_bytes = read_file(argv[1], &model_size);
    if (!model_bytes) return fail("cannot read the model", argv[1]);
    unsigned char *frame = read_file(argv[2], &frame_size);
    if (!frame) return fail("cannot read the frame", argv[2]);
    if (frame_size != (size_t)(width * height * 3)) return fail("the frame is not WIDTH x HEIGHT x 3 bytes", argv[2]);

    quanta_model model;
    int32_t status = quanta_model_init(&model, model_bytes, model_size);
    if (status != QUANTA_OK) return fail("invalid model", quanta_status_name(status));
    const size_t arena_size = quanta_model_arena_size(&model);
    void *arena = NULL;
    if (posix_memalign(&arena, 64, arena_size ? arena_size : 16) != 0) return fail("out of memory", NULL);
    quanta_interpreter interpreter;
    status = quanta_interpreter_init(&interpreter, &model, arena, arena_size);
    if (status != QUANTA_OK) return fail("cannot bind the arena", quanta_status_name(status));

    quanta_tensor in, out;
    if (quanta_input(&interpreter, 0, &in) != QUANTA_OK || quanta_output(&interpreter, 0, &out) != QUANTA_OK) {
        return fail("the model has no input or output 0", NULL);
    }
    if (in.n != 1 || (in.c != 1 && in.c != 3)) return fail("the example takes one image of 1 or 3 channels", NULL);

    /* Fill the input: NHWC int8, q = round(x / scale) + zero_point, saturated. */
    for (int32_t y = 0; y < in.h; y++) {
        const long sy = (long)y * height / in.h;
        for (int32_t x = 0; x < in.w; x++) {
            const unsigned char *p = frame + (sy * width + (long)x * width / in.w) * 3;
            for (int32_t c = 0; c < in.c; c++) {
                const float v = in.c == 3 ? p[c] : 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
                const float real = (v / 255.0f - mean) / std;
                long q = lroundf(real / in.scale) + in.zero_point;
                in.data[((long)y * in.w + x) * in.c + c] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
            }
        }
    }

    if (getenv("QUANTA_PROFILE")) {
        /* Op by op, each timed: the same result as quanta_invoke. */
        const int32_t ops = quanta_model_op_count(&model);
        double total = 0;
        for (int32_t i = 0; i < ops; i++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            quanta_invoke_ops(&interpreter, i, 1);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            const double us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
            total += us;
            fprintf(stderr, "op %3d  %10.1f us\n", (int)i, us);
        }
        fprintf(stderr, "total  %10.1f us\n", total);
    } else {
        quanta_invoke(&interpreter);
    }

    /* Top 5 of the first output (all of its values, NHWC order). */
    const long count = (long)out.n * out.h * out.w * out.c;
    int best[5];
    int found = 0;
    for (int k = 0; k < 5 && k < count; k++) {
        int pick = -1;
        for (long i = 0; i < count; i++) {
            int taken = 0;
            for (int j = 0; j < found; j++) taken |= best[j] == i;
            if (!taken && (pick < 0 || out.data[i] > out.data[pick])) pick = (int)i;
        }
        best[found++] = pick;
    }
    printf("%s: output 0 has %ld values; top %d:\n", argv[1], count, found);
    for (int k = 0; k < found; k++) {
        printf("  %d  %.6f\n", best[k], out.scale * (float)(out.data[best[k]] - out.zero_point));
    }
    free(arena);
    free(frame);
    free(model_bytes);
    return 0;
}
