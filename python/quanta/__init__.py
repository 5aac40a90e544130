"""Quanta from Python.

``quanta.Interpreter`` runs a ``.qmodel`` through the runtime's C API (``libquanta.so``,
the Embedded Swift runtime built for the host) with the method names and detail
dictionaries of TensorFlow Lite's ``tflite_runtime.interpreter.Interpreter``, so a script
written for TFLite runs unchanged apart from its import line::

    from quanta import Interpreter          # instead of tflite_runtime.interpreter
    interpreter = Interpreter(model_path="digits.qmodel")
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], int8_or_float_array)
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

Tensors are int8 with ``quantization = (scale, zero_point)``; shapes are the source
model's (NCHW for an ONNX image input), and ``set_tensor`` also takes float32 values,
which it quantizes as the runtime does (round half away from zero, clamp to int8).

``quanta.quantize(...)`` and ``quanta.evaluate(...)`` run the ``quanta`` command line tool
(``QUANTA_CLI``, else ``quanta`` on PATH, else the repository's release or debug build)
and return its JSON summary as a dict.
"""

import ctypes
import json
import os
import shutil
import subprocess

import numpy as np

__all__ = ["Interpreter", "QuantaError", "quantize", "evaluate", "library_path"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))

# Storage sizes and alignment of quanta.h (QUANTA_MODEL_STORAGE, QUANTA_INTERPRETER_STORAGE).
_MODEL_STORAGE = 256
_INTERPRETER_STORAGE = 320
_ALIGNMENT = 16
_LAYOUT_NHWC, _LAYOUT_NCHW, _LAYOUT_NC = 0, 1, 2


class QuantaError(RuntimeError):
    """A status of the C API (``status``: the code; the message names it)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class _Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.POINTER(ctypes.c_int8)),
        ("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32),
        ("scale", ctypes.c_float),
        ("zero_point", ctypes.c_int32),
        ("source_layout", ctypes.c_int32),
    ]


def library_path():
    """The libquanta.so this package loads: QUANTA_LIBRARY, else the one installed with the
    package, else the repository's host build (Targets/build host --library)."""
    candidates = [os.environ.get("QUANTA_LIBRARY"), os.path.join(_HERE, "libquanta.so"),
                  os.path.join(_REPO, ".build", "targets", "host", "lib", "libquanta.so")]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    raise QuantaError("libquanta.so not found: pip install ./python (builds it), run "
                      "Targets/build host --library, or set QUANTA_LIBRARY")


_lib = None


def _library():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(library_path())
        p, i32, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
        lib.quanta_model_init.argtypes, lib.quanta_model_init.restype = [p, p, size], i32
        lib.quanta_model_arena_size.argtypes, lib.quanta_model_arena_size.restype = [p], size
        for name in ("quanta_model_input_count", "quanta_model_output_count", "quanta_model_op_count"):
            getattr(lib, name).argtypes, getattr(lib, name).restype = [p], i32
        lib.quanta_interpreter_init.argtypes, lib.quanta_interpreter_init.restype = [p, p, p, size], i32
        lib.quanta_invoke.argtypes, lib.quanta_invoke.restype = [p], None
        lib.quanta_invoke_ops.argtypes, lib.quanta_invoke_ops.restype = [p, i32, i32], i32
        for name in ("quanta_input", "quanta_output"):
            getattr(lib, name).argtypes, getattr(lib, name).restype = [p, i32, ctypes.POINTER(_Tensor)], i32
        for name in ("quanta_input_name", "quanta_output_name"):
            getattr(lib, name).argtypes, getattr(lib, name).restype = [p, i32, ctypes.c_char_p, size], i32
        lib.quanta_status_name.argtypes, lib.quanta_status_name.restype = [i32], ctypes.c_char_p
        _lib = lib
    return _lib


def _aligned(count):
    """A zeroed numpy uint8 buffer of `count` bytes starting on a 16-byte boundary (the
    whole allocation is kept alive by the returned view's base)."""
    raw = np.zeros(max(count, 1) + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    return raw[offset:offset + max(count, 1)]


def _check(status, what):
    if status != 0:
        name = _library().quanta_status_name(status).decode()
        raise QuantaError("%s: %s (status %d)" % (what, name, status), status)


class Interpreter:
    """TFLite's ``Interpreter`` for a ``.qmodel``: ``model_path`` or ``model_content``
    (bytes). Other TFLite keyword arguments (``num_threads``, ``experimental_delegates``,
    ``experimental_op_resolver_type``, ...) are accepted and ignored: the runtime is
    single-threaded and has one kernel set."""

    def __init__(self, model_path=None, model_content=None, **ignored):
        if (model_path is None) == (model_content is None):
            raise ValueError("Interpreter needs exactly one of model_path and model_content")
        if model_path is not None:
            with open(model_path, "rb") as f:
                content = f.read()
            self._source = model_path
        else:
            content = bytes(model_content)
            self._source = "model_content"
        lib = _library()
        # The model is read in place: its bytes, like the storage, stay alive with self.
        self._bytes = _aligned(len(content))
        self._bytes[:len(content)] = np.frombuffer(content, dtype=np.uint8)
        self._model = _aligned(_MODEL_STORAGE)
        _check(lib.quanta_model_init(self._model.ctypes.data, self._bytes.ctypes.data, len(content)),
               "cannot load %s" % self._source)
        self._interpreter = None
        self._arena = None
        self._inputs = lib.quanta_model_input_count(self._model.ctypes.data)
        self._outputs = lib.quanta_model_output_count(self._model.ctypes.data)

    # -- set-up ---------------------------------------------------------------------

    def allocate_tensors(self):
        """Binds the model to its arena (the size the plan states)."""
        lib = _library()
        size = lib.quanta_model_arena_size(self._model.ctypes.data)
        self._arena = _aligned(size)
        self._interpreter = _aligned(_INTERPRETER_STORAGE)
        _check(lib.quanta_interpreter_init(self._interpreter.ctypes.data, self._model.ctypes.data,
                                           self._arena.ctypes.data, size), "allocate_tensors")

    def _require_allocated(self):
        if self._interpreter is None:
            raise RuntimeError("allocate_tensors() must be called before using the tensors")

    def _tensor(self, index):
        """(C tensor, is_input, position) of detail index `index`."""
        self._require_allocated()
        lib = _library()
        tensor = _Tensor()
        if 0 <= index < self._inputs:
            _check(lib.quanta_input(self._interpreter.ctypes.data, index, ctypes.byref(tensor)), "tensor %d" % index)
            return tensor, True, index
        if self._inputs <= index < self._inputs + self._outputs:
            k = index - self._inputs
            _check(lib.quanta_output(self._interpreter.ctypes.data, k, ctypes.byref(tensor)), "tensor %d" % index)
            return tensor, False, k
        raise ValueError("Tensor with no shape found: index %d is not an input (0...%d) or an output (%d...%d)"
                         % (index, self._inputs - 1, self._inputs, self._inputs + self._outputs - 1))

    @staticmethod
    def _shape(t):
        """The source model's shape of a tensor (its data is NHWC in the arena)."""
        if t.source_layout == _LAYOUT_NCHW:
            return (t.n, t.c, t.h, t.w)
        if t.source_layout == _LAYOUT_NC:
            return (t.n, t.c)
        return (t.n, t.h, t.w, t.c)

    def _name(self, is_input, k):
        lib = _library()
        get = lib.quanta_input_name if is_input else lib.quanta_output_name
        length = get(self._model.ctypes.data, k, None, 0)
        if length <= 0:
            return ("input_%d" if is_input else "output_%d") % k
        buffer = ctypes.create_string_buffer(length + 1)
        get(self._model.ctypes.data, k, buffer, length + 1)
        return buffer.value.decode("utf-8", "replace")

    def _detail(self, index):
        t, is_input, k = self._tensor(index)
        shape = np.array(self._shape(t), dtype=np.int32)
        return {
            "name": self._name(is_input, k),
            "index": index,
            "shape": shape,
            "shape_signature": shape.copy(),
            "dtype": np.int8,
            "quantization": (float(t.scale), int(t.zero_point)),
            "quantization_parameters": {
                "scales": np.array([t.scale], dtype=np.float32),
                "zero_points": np.array([t.zero_point], dtype=np.int32),
                "quantized_dimension": 0,
            },
            "sparsity_parameters": {},
        }

    def get_input_details(self):
        return [self._detail(i) for i in range(self._inputs)]

    def get_output_details(self):
        return [self._detail(self._inputs + k) for k in range(self._outputs)]

    # -- data -----------------------------------------------------------------------

    @staticmethod
    def _view(t):
        """The tensor's bytes in the arena as an NHWC int8 array (no copy)."""
        count = t.n * t.h * t.w * t.c
        return np.ctypeslib.as_array(t.data, shape=(count,)).reshape(t.n, t.h, t.w, t.c)

    def set_tensor(self, tensor_index, value):
        """Copies `value` (the detail's shape; int8, or float32 quantized with the
        tensor's scale and zero point) into input `tensor_index`."""
        t, is_input, _ = self._tensor(tensor_index)
        if not is_input:
            raise ValueError("Cannot set tensor: tensor %d is an output" % tensor_index)
        value = np.asarray(value)
        shape = self._shape(t)
        if tuple(value.shape) != shape:
            raise ValueError("Cannot set tensor: Dimension mismatch. Got %s but expected %s for input %d."
                             % (list(value.shape), list(shape), tensor_index))
        if value.dtype == np.int8:
            q = value
        elif value.dtype in (np.float32, np.float64):
            # As the runtime's Quantizer.quantize, in float32: x / scale rounded half away
            # from zero (the fraction compared exactly), + zero point, clamped; NaN gives
            # the zero point.
            with np.errstate(invalid="ignore", over="ignore"):
                scaled = value.astype(np.float32) / np.float32(t.scale)
                magnitude = np.abs(scaled)
                whole = np.floor(magnitude)
                rounded = np.copysign(whole + (magnitude - whole >= np.float32(0.5)), scaled)
                shifted = rounded + np.float32(t.zero_point)
                q = np.clip(np.nan_to_num(shifted, nan=0.0, posinf=127, neginf=-128), -128, 127).astype(np.int8)
            q[np.isnan(scaled)] = np.int8(np.clip(t.zero_point, -128, 127))
        else:
            raise ValueError("Cannot set tensor: Got value of type %s but expected type int8 (or float32) for input %d"
                             % (value.dtype, tensor_index))
        if t.source_layout == _LAYOUT_NCHW:
            q = q.transpose(0, 2, 3, 1)
        self._view(t)[...] = q.reshape(t.n, t.h, t.w, t.c)

    def get_tensor(self, tensor_index):
        """A copy of tensor `tensor_index` in the detail's shape (int8). An input read after
        `invoke` may hold other values: the static plan reuses its arena bytes once it
        has been read (as TFLite Micro's does); set it again before the next invoke."""
        t, _, _ = self._tensor(tensor_index)
        data = self._view(t).copy()
        if t.source_layout == _LAYOUT_NCHW:
            return data.transpose(0, 3, 1, 2).copy()
        return data.reshape(self._shape(t))

    def invoke(self):
        if self._interpreter is None:
            raise RuntimeError("Invoke called before allocate_tensors()")
        _library().quanta_invoke(self._interpreter.ctypes.data)

    def invoke_ops(self, first, count):
        """Runs ops first ..< first + count only (a profiler's loop; quanta_invoke_ops)."""
        self._require_allocated()
        _check(_library().quanta_invoke_ops(self._interpreter.ctypes.data, first, count), "invoke_ops")

    @property
    def op_count(self):
        return _library().quanta_model_op_count(self._model.ctypes.data)

    @property
    def arena_size(self):
        return _library().quanta_model_arena_size(self._model.ctypes.data)


# -- the command line tool -----------------------------------------------------------

def _cli():
    for path in (os.environ.get("QUANTA_CLI"), shutil.which("quanta"),
                 os.path.join(_REPO, ".build", "release", "quanta"), os.path.join(_REPO, ".build", "debug", "quanta")):
        if path and os.path.exists(path):
            return path
    raise QuantaError("the quanta command line tool was not found: set QUANTA_CLI or run swift build --product quanta")


def _run_json(arguments):
    r = subprocess.run([_cli()] + arguments + ["--json"], capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        raise QuantaError("quanta %s failed (exit %d): %s" % (arguments[0], r.returncode, r.stderr.strip() or r.stdout.strip()))
    return json.loads(r.stdout)


def quantize(onnx_path, calibration, output, method=None, limit=None, seed=None, extra=()):
    """`quanta quantize ONNX --calibration DATA -o OUTPUT [--method M] [--limit N] [--seed S]`;
    returns the summary (dict)."""
    arguments = ["quantize", str(onnx_path), "--calibration", str(calibration), "-o", str(output), "--quiet"]
    if method:
        arguments += ["--method", method]
    if limit is not None:
        arguments += ["--limit", str(limit)]
    if seed is not None:
        arguments += ["--seed", str(seed)]
    return _run_json(arguments + list(extra))


def evaluate(onnx_path, qmodel_path, data, labels=None, limit=None, extra=()):
    """`quanta eval ONNX QMODEL --data DATA [--labels L] [--limit N]`; returns the result (dict)."""
    arguments = ["eval", str(onnx_path), str(qmodel_path), "--data", str(data), "--quiet"]
    if labels is not None:
        arguments += ["--labels", str(labels)]
    if limit is not None:
        arguments += ["--limit", str(limit)]
    return _run_json(arguments + list(extra))
