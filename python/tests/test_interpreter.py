"""quanta.Interpreter against the runtime's own output, TFLite's API shape, errors, and the
CLI wrappers. Run from the repository root: python3 -m pytest python/tests (Tools/test runs
it after the Swift suite). Needs the host library (Targets/build host --library) and the
quanta CLI (swift build --product quanta); the session fixture builds both when missing."""

import json
import os
import subprocess
import textwrap

import numpy as np
import pytest

import quanta

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(REPO, "Models")


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """The shipped digits model quantized by the CLI, its first 8 evaluation samples, and
    what `quanta run --int8` writes for them (the reference bytes)."""
    if not os.path.exists(os.path.join(REPO, ".build", "targets", "host", "lib", "libquanta.so")) \
            and "QUANTA_LIBRARY" not in os.environ and not os.path.exists(os.path.join(os.path.dirname(quanta.__file__), "libquanta.so")):
        subprocess.run([os.path.join(REPO, "Targets", "build"), "host", "--library"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
    cli = quanta._cli()
    folder = tmp_path_factory.mktemp("digits")
    qmodel = str(folder / "digits.qmodel")
    summary = quanta.quantize(os.path.join(MODELS, "digits_mobilenet.onnx"), os.path.join(MODELS, "digits_calibration.npy"),
                              qmodel, limit=64)
    samples = np.load(os.path.join(MODELS, "digits_eval.npy"))[:8].astype(np.float32)
    inputs = str(folder / "x.npy")
    np.save(inputs, samples)
    reference = str(folder / "ref.npy")
    subprocess.run([cli, "run", qmodel, "--input", inputs, "--output", reference, "--int8"], check=True,
                   stdout=subprocess.DEVNULL)
    return {"qmodel": qmodel, "samples": samples, "reference": np.load(reference), "summary": summary}


def test_details_have_tflites_keys_and_the_models_shapes(digits):
    interpreter = quanta.Interpreter(model_path=digits["qmodel"])
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    for detail in (inp, out):
        assert {"name", "index", "shape", "dtype", "quantization", "quantization_parameters"} <= set(detail)
        assert detail["dtype"] == np.int8
        scale, zero_point = detail["quantization"]
        assert scale > 0 and -128 <= zero_point <= 127
    assert list(inp["shape"]) == list(digits["samples"].shape[1:]) or list(inp["shape"]) == [1] + list(digits["samples"].shape[1:])
    assert inp["index"] == 0 and out["index"] == 1
    assert inp["name"] and out["name"] and inp["name"] != out["name"]
    assert interpreter.get_tensor(out["index"]).shape == tuple(out["shape"])


def test_float_and_int8_inputs_give_the_runtimes_bytes(digits):
    interpreter = quanta.Interpreter(model_path=digits["qmodel"])
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    shape = tuple(inp["shape"])
    for k, sample in enumerate(digits["samples"]):
        x = sample.reshape(shape)
        interpreter.set_tensor(inp["index"], x)  # float32: quantized as the runtime does
        q = interpreter.get_tensor(inp["index"])  # before invoke: the plan may reuse the input's bytes
        interpreter.invoke()
        got = interpreter.get_tensor(out["index"])
        expected = digits["reference"][k].reshape(got.shape)
        assert np.array_equal(got, expected), "sample %d" % k
        # The int8 input the float one became gives the same output.
        interpreter.set_tensor(inp["index"], q)
        interpreter.invoke()
        assert np.array_equal(interpreter.get_tensor(out["index"]), expected)


TFLITE_SCRIPT = textwrap.dedent("""
    import numpy as np
    from tflite_runtime.interpreter import Interpreter

    def classify(model_path, image):
        interpreter = Interpreter(model_path=model_path, num_threads=1)
        interpreter.allocate_tensors()
        input_details = interpreter.get_input_details()
        output_details = interpreter.get_output_details()
        scale, zero_point = input_details[0]["quantization"]
        q = np.clip(np.round(image / scale + zero_point), -128, 127).astype(input_details[0]["dtype"])
        interpreter.set_tensor(input_details[0]["index"], q.reshape(input_details[0]["shape"]))
        interpreter.invoke()
        output = interpreter.get_tensor(output_details[0]["index"])
        scale, zero_point = output_details[0]["quantization"]
        return int(np.argmax((output.astype(np.float32) - zero_point) * scale))
""")


def test_a_script_written_for_tflite_runtime_runs_with_only_the_import_changed(digits):
    source = TFLITE_SCRIPT.replace("from tflite_runtime.interpreter import Interpreter", "from quanta import Interpreter")
    assert source.count("\n") == TFLITE_SCRIPT.count("\n")
    namespace = {}
    exec(compile(source, "tflite_script.py", "exec"), namespace)
    labels = np.load(os.path.join(MODELS, "digits_eval_labels.npy"))[:8]
    predictions = [namespace["classify"](digits["qmodel"], sample) for sample in digits["samples"]]
    assert sum(int(p == l) for p, l in zip(predictions, labels)) >= 7


def test_model_content_and_profiling_by_op_ranges(digits):
    with open(digits["qmodel"], "rb") as f:
        interpreter = quanta.Interpreter(model_content=f.read())
    interpreter.allocate_tensors()
    assert interpreter.arena_size > 0 and interpreter.op_count > 1
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], digits["samples"][0].reshape(tuple(inp["shape"])))
    for op in range(interpreter.op_count):
        interpreter.invoke_ops(op, 1)
    assert np.array_equal(interpreter.get_tensor(out["index"]), digits["reference"][0].reshape(tuple(out["shape"])))
    with pytest.raises(quanta.QuantaError, match="index_out_of_range"):
        interpreter.invoke_ops(interpreter.op_count, 1)


def test_errors_name_the_problem(digits, tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        quanta.Interpreter()
    with pytest.raises(FileNotFoundError):
        quanta.Interpreter(model_path=str(tmp_path / "missing.qmodel"))
    with pytest.raises(quanta.QuantaError, match="bad_magic"):
        quanta.Interpreter(model_content=b"not a model at all, but long enough to have a header" * 4)
    data = bytearray(open(digits["qmodel"], "rb").read())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(quanta.QuantaError, match="checksum_mismatch"):
        quanta.Interpreter(model_content=bytes(data))
    interpreter = quanta.Interpreter(model_path=digits["qmodel"])
    with pytest.raises(RuntimeError, match="allocate_tensors"):
        interpreter.invoke()
    with pytest.raises(RuntimeError, match="allocate_tensors"):
        interpreter.get_input_details()
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    with pytest.raises(ValueError, match="Dimension mismatch"):
        interpreter.set_tensor(inp["index"], np.zeros((1, 2, 3), np.int8))
    with pytest.raises(ValueError, match="expected type int8"):
        interpreter.set_tensor(inp["index"], np.zeros(tuple(inp["shape"]), np.int32))
    with pytest.raises(ValueError, match="is an output"):
        interpreter.set_tensor(interpreter.get_output_details()[0]["index"], np.zeros(1, np.int8))
    with pytest.raises(ValueError, match="not an input"):
        interpreter.get_tensor(7)


def test_quantize_and_evaluate_wrappers_return_the_clis_json(digits, tmp_path):
    summary = digits["summary"]
    assert summary["samples"] == 64 and summary["arenaBytes"] > 0
    result = quanta.evaluate(os.path.join(MODELS, "digits_mobilenet.onnx"), digits["qmodel"],
                             os.path.join(MODELS, "digits_eval.npy"), labels=os.path.join(MODELS, "digits_eval_labels.npy"),
                             limit=32)
    assert result["samples"] == 32
    assert result["outputs"][0]["sqnr"] > 10
    json.dumps(result)
    with pytest.raises(quanta.QuantaError, match="quantize"):
        quanta.quantize(str(tmp_path / "missing.onnx"), os.path.join(MODELS, "digits_calibration.npy"), str(tmp_path / "x.qmodel"))
