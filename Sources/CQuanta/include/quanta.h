/*
 * Quanta runtime C API: load a validated .qmodel file in place, bind it to a
 * caller-provided arena, run it. Implemented in Swift (Sources/QuantaRuntime/CAPI).
 *
 * Nothing here allocates. The model bytes must be 16-byte aligned and outlive the
 * model and every interpreter built from it (they are read in place, never copied);
 * the arena must be 16-byte aligned, hold at least quanta_model_arena_size() bytes,
 * and outlive the interpreter. quanta_invoke() reads only the model bytes and reads
 * and writes only the first quanta_model_arena_size() bytes of the arena.
 */
#ifndef QUANTA_H
#define QUANTA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Storage the caller provides for a model and an interpreter (opaque). */
#define QUANTA_MODEL_STORAGE 256
#define QUANTA_INTERPRETER_STORAGE 320

typedef struct quanta_model {
    _Alignas(16) unsigned char opaque[QUANTA_MODEL_STORAGE];
} quanta_model;

typedef struct quanta_interpreter {
    _Alignas(16) unsigned char opaque[QUANTA_INTERPRETER_STORAGE];
} quanta_interpreter;

/* Status codes: one per kind of ModelError, plus API misuse. */
typedef enum quanta_status {
    QUANTA_OK = 0,
    QUANTA_TRUNCATED = 1,
    QUANTA_BAD_MAGIC = 2,
    QUANTA_UNSUPPORTED_VERSION = 3,
    QUANTA_SIZE_MISMATCH = 4,
    QUANTA_CHECKSUM_MISMATCH = 5,
    QUANTA_MISALIGNED_BUFFER = 6,
    QUANTA_INVALID_HEADER = 7,
    QUANTA_OFFSET_OUT_OF_BOUNDS = 8,
    QUANTA_MISALIGNED_SECTION = 9,
    QUANTA_INVALID_COUNT = 10,
    QUANTA_INVALID_TENSOR = 11,
    QUANTA_INVALID_OP = 12,
    QUANTA_INVALID_IO = 13,
    QUANTA_ARENA_OUT_OF_BOUNDS = 14,
    QUANTA_OVERLAPPING_BUFFERS = 15,
    QUANTA_INVALID_LOWER_BOUND = 16,
    QUANTA_ARENA_TOO_SMALL = 17,
    QUANTA_INVALID_NAME = 18,
    QUANTA_NULL_ARGUMENT = 100,
    QUANTA_INDEX_OUT_OF_RANGE = 101
} quanta_status;

/* Source layout of a model input or output (the data itself is always NHWC). */
typedef enum quanta_layout {
    QUANTA_LAYOUT_NHWC = 0,
    QUANTA_LAYOUT_NCHW = 1,
    QUANTA_LAYOUT_NC = 2
} quanta_layout;

/* A model input or output: int8 NHWC data in the arena, real = scale * (q - zero_point). */
typedef struct quanta_tensor {
    int8_t *data;
    int32_t n, h, w, c;
    float scale;
    int32_t zero_point;
    int32_t source_layout; /* quanta_layout */
} quanta_tensor;

/* Reads and validates a model (magic, version, checksum, every offset, shape and parameter). */
int32_t quanta_model_init(quanta_model *model, const void *bytes, size_t size);
/* Bytes of arena the model needs (exactly what quanta_interpreter_init accepts). */
size_t quanta_model_arena_size(const quanta_model *model);
int32_t quanta_model_input_count(const quanta_model *model);
int32_t quanta_model_output_count(const quanta_model *model);
int32_t quanta_model_op_count(const quanta_model *model);

/* Binds a model to an arena; QUANTA_ARENA_TOO_SMALL when arena_size < quanta_model_arena_size. */
int32_t quanta_interpreter_init(quanta_interpreter *interpreter, const quanta_model *model, void *arena,
                                size_t arena_size);
/* Runs the whole plan once. No allocation, no failure after a successful init. */
void quanta_invoke(const quanta_interpreter *interpreter);
/* Runs ops first .. first + count - 1 of the plan, in order: calling it for each op in turn
   is quanta_invoke, so a profiler can time every op with its own clock (the input must be
   set before op 0, as for quanta_invoke). QUANTA_INDEX_OUT_OF_RANGE (nothing runs) when the
   range leaves 0 .. quanta_model_op_count() - 1. No allocation. */
int32_t quanta_invoke_ops(const quanta_interpreter *interpreter, int32_t first, int32_t count);
int32_t quanta_input(const quanta_interpreter *interpreter, int32_t index, quanta_tensor *tensor);
int32_t quanta_output(const quanta_interpreter *interpreter, int32_t index, quanta_tensor *tensor);

/* A constant name for a status code ("ok", "checksum_mismatch", ...). */
const char *quanta_status_name(int32_t status);

/* The shape of a tensor in its source layout, outermost first: rank 4 (N, C, H, W for
   QUANTA_LAYOUT_NCHW; N, H, W, C for NHWC) or rank 2 (N, C for QUANTA_LAYOUT_NC). Writes
   min(rank, capacity) dims and returns the rank, or -QUANTA_NULL_ARGUMENT. The data in
   the arena is NHWC whatever the source layout. */
int32_t quanta_tensor_shape(const quanta_tensor *tensor, int32_t *dims, int32_t capacity);

/* The name of input (output) `index` as the model file records it (UTF-8; the ONNX
   tensor name): writes at most size - 1 bytes and a terminating 0 to buffer when
   size > 0, and returns the name's full length in bytes (0 when the file carries no
   names), or minus a status (-QUANTA_NULL_ARGUMENT, -QUANTA_INDEX_OUT_OF_RANGE). */
int32_t quanta_input_name(const quanta_model *model, int32_t index, char *buffer, size_t size);
int32_t quanta_output_name(const quanta_model *model, int32_t index, char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* QUANTA_H */
