// The C API is implemented in Swift (Sources/QuantaRuntime/CAPI/CAPI.swift); this target
// only publishes the header. These checks keep the header's layout assumptions honest.
#include "quanta.h"

_Static_assert(sizeof(quanta_model) == QUANTA_MODEL_STORAGE, "quanta_model storage");
_Static_assert(_Alignof(quanta_model) == 16, "quanta_model alignment");
_Static_assert(sizeof(quanta_interpreter) == QUANTA_INTERPRETER_STORAGE, "quanta_interpreter storage");
_Static_assert(sizeof(quanta_tensor) == sizeof(int8_t *) + 7 * 4 + (sizeof(int8_t *) == 8 ? 4 : 0), "quanta_tensor layout");
