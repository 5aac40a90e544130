#ifndef QUANTA_C_SMOKE_H
#define QUANTA_C_SMOKE_H
#include <stddef.h>
#include <stdint.h>

/// Runs a model through the C API of quanta.h, from C: init the model, check the arena
/// size, init the interpreter (first with one byte too few), copy `input` into input 0,
/// invoke, copy output 0 into `output`. Returns 0, or the first failing status / a
/// negative step number.
int32_t quanta_smoke_run(const void *model_bytes, size_t model_size, void *arena, size_t arena_capacity,
                         const int8_t *input, size_t input_count, int8_t *output, size_t output_capacity,
                         size_t *output_count);
#endif
