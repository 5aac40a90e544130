#include "CQuantaSmoke.h"

#include <string.h>

#include "quanta.h"

int32_t quanta_smoke_run(const void *model_bytes, size_t model_size, void *arena, size_t arena_capacity,
                         const int8_t *input, size_t input_count, int8_t *output, size_t output_capacity,
                         size_t *output_count) {
    quanta_model model;
    quanta_interpreter interpreter;
    int32_t status = quanta_model_init(&model, model_bytes, model_size);
    if (status != QUANTA_OK) return status;
    size_t needed = quanta_model_arena_size(&model);
    if (needed > arena_capacity) return -1;
    if (quanta_model_input_count(&model) != 1 || quanta_model_output_count(&model) != 1) return -2;
    if (needed > 0 && quanta_interpreter_init(&interpreter, &model, arena, needed - 1) != QUANTA_ARENA_TOO_SMALL) return -3;
    if (strcmp(quanta_status_name(QUANTA_ARENA_TOO_SMALL), "arena_too_small") != 0) return -4;
    status = quanta_interpreter_init(&interpreter, &model, arena, needed);
    if (status != QUANTA_OK) return status;
    quanta_tensor in, out;
    if (quanta_input(&interpreter, 0, &in) != QUANTA_OK) return -5;
    if (quanta_input(&interpreter, 1, &in) != QUANTA_INDEX_OUT_OF_RANGE) return -6;
    size_t count = (size_t)in.n * in.h * in.w * in.c;
    if (count != input_count) return -7;
    /* The rank-generic shape: its dims multiply to the element count, in the source layout. */
    int32_t dims[6] = {-1, -1, -1, -1, -1, -1};
    const int32_t rank = quanta_tensor_shape(&in, dims, 6);
    if (rank != 4 && rank != 2) return -20;
    size_t product = 1;
    for (int32_t k = 0; k < rank; k++) product *= (size_t)dims[k];
    if (product != count || dims[rank] != -1) return -21;
    if (in.source_layout == QUANTA_LAYOUT_NCHW && (dims[1] != in.c || dims[3] != in.w)) return -22;
    if (in.source_layout == QUANTA_LAYOUT_NHWC && (dims[1] != in.h || dims[3] != in.c)) return -23;
    if (quanta_tensor_shape(&in, dims, 1) != rank || quanta_tensor_shape(0, dims, 6) != -QUANTA_NULL_ARGUMENT) return -24;
    char name[8];
    if (quanta_input_name(&model, 0, name, sizeof name) < 0 || quanta_input_name(&model, 1, name, sizeof name) != -QUANTA_INDEX_OUT_OF_RANGE) return -25;
    memcpy(in.data, input, count);
    quanta_invoke(&interpreter);
    if (quanta_output(&interpreter, 0, &out) != QUANTA_OK) return -8;
    count = (size_t)out.n * out.h * out.w * out.c;
    if (count > output_capacity) return -9;
    memcpy(output, out.data, count);
    *output_count = count;
    /* Op by op (a profiler's loop) gives the same output; ranges outside the plan run nothing. */
    const int32_t ops = quanta_model_op_count(&model);
    if (quanta_invoke_ops(&interpreter, ops, 1) != QUANTA_INDEX_OUT_OF_RANGE) return -10;
    if (quanta_invoke_ops(&interpreter, -1, 1) != QUANTA_INDEX_OUT_OF_RANGE) return -11;
    memset(out.data, 0x5a, count);
    memcpy(in.data, input, input_count);
    for (int32_t i = 0; i < ops; i++) {
        if (quanta_invoke_ops(&interpreter, i, 1) != QUANTA_OK) return -12;
    }
    if (memcmp(output, out.data, count) != 0) return -13;
    if (quanta_invoke_ops(&interpreter, 0, 0) != QUANTA_OK) return -14;
}
