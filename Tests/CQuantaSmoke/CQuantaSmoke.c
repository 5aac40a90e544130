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
