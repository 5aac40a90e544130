"""A tiny sequential "program" of ONNX nodes, interpreted by jax (for training and as
the reference) and written out with onnx.helper in the layout PyTorch's exporter emits.

Both make_digits_model.py and make_mobilenet_family.py build their networks with
`Program`, so the jax forward pass and the ONNX graph cannot drift apart: they are two
interpreters of the same node list.

Conventions (those of `torch.onnx.export` from an nn.Module in eval mode):
- NCHW activations, OIHW conv weights, Gemm with transB=1 (nn.Linear).
- Node names "/features/3/conv/1/Conv", output tensors "<node name>_output_0",
  initializers named after the module parameter ("features.3.conv.1.weight").
- BatchNormalization with epsilon 1e-5 and momentum 0.9, inputs (X, scale, B, mean, var).
- Reshape / Split shape operands as Constant nodes (the exporter keeps these as
  `onnx::Constant` nodes named "/features/2/Constant") or, optionally, initializers.
"""

from __future__ import annotations

import numpy as np


class Program:
    def __init__(self, input_name: str = "input", constants_as: str = "node"):
        self.nodes: list[dict] = []
        self.params: dict[str, np.ndarray] = {}
        # Parameters updated by training (conv/gemm weights, BN scale and bias).
        self.trainable: set[str] = set()
        # Running statistics of BN layers: name of the node -> (mean name, var name).
        self.bn_stats: dict[str, tuple[str, str]] = {}
        self.input = input_name
        self.constants_as = constants_as
        self._const_counter: dict[str, int] = {}

    # -- building -------------------------------------------------------------------

    def _node(self, op: str, name: str, inputs: list[str], attrs: dict | None = None,
              n_out: int = 1) -> list[str]:
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(dict(op=op, name=name, inputs=inputs, outputs=outs, attrs=attrs or {}))
        return outs

    def _const(self, scope: str, value: np.ndarray) -> str:
        """An int64 constant operand (Reshape shape, Split sizes)."""
        k = self._const_counter.get(scope, 0)
        self._const_counter[scope] = k + 1
        suffix = "" if k == 0 else f"_{k}"
        if self.constants_as == "node":
            return self._node("Constant", f"{scope}/Constant{suffix}", [],
                              {"value": np.asarray(value, dtype=np.int64)})[0]
        name = f"onnx::{scope.strip('/').replace('/', '_')}_const{suffix}"
        self.params[name] = np.asarray(value, dtype=np.int64)
        return name

    def conv(self, x: str, scope: str, module: str, cin: int, cout: int, k: int, stride: int = 1,
             groups: int = 1, bias: bool = False, rng: np.random.Generator | None = None,
             pad: int | None = None) -> str:
        p = (k // 2) if pad is None else pad
        w = f"{module}.weight"
        fan_in = (cin // groups) * k * k
        rng = rng or np.random.default_rng(0)
        self.params[w] = (rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        self.trainable.add(w)
        inputs = [x, w]
        if bias:
            b = f"{module}.bias"
            self.params[b] = (rng.standard_normal(cout) * 0.01).astype(np.float32)
            self.trainable.add(b)
            inputs.append(b)
        attrs = dict(dilations=[1, 1], group=groups, kernel_shape=[k, k], pads=[p, p, p, p],
                     strides=[stride, stride])
        return self._node("Conv", f"{scope}/Conv", inputs, attrs)[0]

    def batch_norm(self, x: str, scope: str, module: str, c: int,
                   rng: np.random.Generator | None = None, randomize: bool = False) -> str:
        names = [f"{module}.weight", f"{module}.bias", f"{module}.running_mean", f"{module}.running_var"]
        if randomize:
            rng = rng or np.random.default_rng(0)
            self.params[names[0]] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            self.params[names[1]] = (rng.standard_normal(c) * 0.1).astype(np.float32)
            self.params[names[2]] = (rng.standard_normal(c) * 0.1).astype(np.float32)
            self.params[names[3]] = rng.uniform(0.5, 2.0, c).astype(np.float32)
        else:
            self.params[names[0]] = np.ones(c, np.float32)
            self.params[names[1]] = np.zeros(c, np.float32)
            self.params[names[2]] = np.zeros(c, np.float32)
            self.params[names[3]] = np.ones(c, np.float32)
        self.trainable.update(names[:2])
        name = f"{scope}/BatchNormalization"
        self.bn_stats[name] = (names[2], names[3])
        return self._node("BatchNormalization", name, [x] + names,
                          dict(epsilon=1e-5, momentum=0.9))[0]

    def relu(self, x: str, scope: str) -> str:
        return self._node("Relu", f"{scope}/Relu", [x])[0]

    def clip6(self, x: str, scope: str) -> str:
        """nn.ReLU6 at opset >= 11: Clip with min/max as (initializer) inputs."""
        lo, hi = f"{scope}/Constant_output_0", f"{scope}/Constant_1_output_0"
        # The exporter emits these as Constant nodes too; keep them as nodes.
        self._node("Constant", f"{scope}/Constant", [], {"value": np.array(0.0, np.float32)})
        self._node("Constant", f"{scope}/Constant_1", [], {"value": np.array(6.0, np.float32)})
        return self._node("Clip", f"{scope}/Clip", [x, lo, hi])[0]

    def hardswish(self, x: str, scope: str) -> str:
        return self._node("HardSwish", f"{scope}/HardSwish", [x])[0]

    def hardsigmoid(self, x: str, scope: str) -> str:
        # nn.Hardsigmoid exports alpha = 1/6 (beta keeps the default 0.5).
        return self._node("HardSigmoid", f"{scope}/HardSigmoid", [x], dict(alpha=1.0 / 6.0))[0]

    def add(self, a: str, b: str, scope: str) -> str:
        return self._node("Add", f"{scope}/Add", [a, b])[0]

    def mul(self, a: str, b: str, scope: str) -> str:
        return self._node("Mul", f"{scope}/Mul", [a, b])[0]

    def global_avg_pool(self, x: str, scope: str) -> str:
        return self._node("GlobalAveragePool", f"{scope}/GlobalAveragePool", [x])[0]

    def max_pool(self, x: str, scope: str, k: int, stride: int, pad: int) -> str:
        return self._node("MaxPool", f"{scope}/MaxPool", [x],
                          dict(ceil_mode=0, dilations=[1, 1], kernel_shape=[k, k],
                               pads=[pad] * 4, strides=[stride, stride]))[0]

    def flatten(self, x: str, scope: str) -> str:
        return self._node("Flatten", f"{scope}/Flatten", [x], dict(axis=1))[0]

    def gemm(self, x: str, scope: str, module: str, cin: int, cout: int,
             rng: np.random.Generator | None = None) -> str:
        rng = rng or np.random.default_rng(0)
        w, b = f"{module}.weight", f"{module}.bias"
        bound = 1.0 / np.sqrt(cin)
        self.params[w] = rng.uniform(-bound, bound, (cout, cin)).astype(np.float32)
        self.params[b] = rng.uniform(-bound, bound, cout).astype(np.float32)
        self.trainable.update([w, b])
        return self._node("Gemm", f"{scope}/Gemm", [x, w, b], dict(alpha=1.0, beta=1.0, transB=1))[0]

    def channel_shuffle(self, x: str, scope: str, channels: int, groups: int, h: int, w: int) -> str:
        """torchvision's channel_shuffle: view(b, g, c/g, h, w) -> transpose(1, 2) -> view(b, -1, h, w),
        exported (static shapes, batch left free as -1) as Reshape -> Transpose -> Reshape."""
        s1 = self._const(scope, np.array([-1, groups, channels // groups, h, w]))
        y = self._node("Reshape", f"{scope}/Reshape", [x, s1])[0]
        y = self._node("Transpose", f"{scope}/Transpose", [y], dict(perm=[0, 2, 1, 3, 4]))[0]
        s2 = self._const(scope, np.array([-1, channels, h, w]))
        return self._node("Reshape", f"{scope}/Reshape_1", [y, s2])[0]

    def split2(self, x: str, scope: str, channels: int) -> tuple[str, str]:
        """x.chunk(2, dim=1) at opset 13-17: Split(axis=1) with the sizes as an input."""
        sizes = self._const(scope, np.array([channels // 2, channels // 2]))
        a, b = self._node("Split", f"{scope}/Split", [x, sizes], dict(axis=1), n_out=2)
        return a, b

    def concat(self, xs: list[str], scope: str) -> str:
        return self._node("Concat", f"{scope}/Concat", xs, dict(axis=1))[0]

    # -- fusing BN (the exporter's default eval-mode peephole) -------------------------

    def fold_batch_norms(self) -> None:
        """Rewrites every Conv -> BatchNormalization pair into one Conv with a bias, as
        `torch.onnx.export(..., training=EVAL)` does."""
        producers = {n["outputs"][0]: n for n in self.nodes}
        consumers: dict[str, int] = {}
        for n in self.nodes:
            for i in n["inputs"]:
                consumers[i] = consumers.get(i, 0) + 1
        kept = []
        renames: dict[str, str] = {}
        for n in self.nodes:
            n = dict(n, inputs=[renames.get(i, i) for i in n["inputs"]])
            if n["op"] == "BatchNormalization":
                conv = producers.get(n["inputs"][0])
                if conv is not None and conv["op"] == "Conv" and consumers[n["inputs"][0]] == 1:
                    scale, beta, mean, var = (self.params[k] for k in n["inputs"][1:5])
                    eps = n["attrs"]["epsilon"]
                    f = scale / np.sqrt(var + eps)
                    wname = conv["inputs"][1]
                    self.params[wname] = (self.params[wname] * f[:, None, None, None]).astype(np.float32)
                    b0 = self.params[conv["inputs"][2]] if len(conv["inputs"]) > 2 else 0.0
                    bname = wname[: -len("weight")] + "bias" if len(conv["inputs"]) < 3 else conv["inputs"][2]
                    self.params[bname] = ((b0 - mean) * f + beta).astype(np.float32)
                    if len(conv["inputs"]) < 3:
                        conv["inputs"].append(bname)
                    for k in n["inputs"][1:5]:
                        del self.params[k]
                    self.bn_stats.pop(n["name"], None)
                    renames[n["outputs"][0]] = conv["outputs"][0]
                    continue
            kept.append(n)
        self.nodes = kept
        self._renames = renames

    # -- jax interpreter ------------------------------------------------------------

    def run_jax(self, params: dict, x, train: bool = False):
        """Forward pass. With `train`, BatchNormalization uses the batch statistics and
        the second result maps each BN node to its (mean, var) over the batch."""
        import jax
        import jax.numpy as jnp

        env = {self.input: x}
        stats = {}
        for n in self.nodes:
            op, a = n["op"], n["attrs"]
            ins = [env[i] if i in env else params[i] for i in n["inputs"]]
            if op == "Constant":
                out = [np.asarray(a["value"])]
            elif op == "Conv":
                p = a["pads"]
                y = jax.lax.conv_general_dilated(
                    ins[0], ins[1], window_strides=tuple(a["strides"]),
                    padding=[(p[0], p[2]), (p[1], p[3])],
                    rhs_dilation=tuple(a["dilations"]),
                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                    feature_group_count=a["group"],
                    precision=jax.lax.Precision.HIGHEST)
                if len(ins) > 2:
                    y = y + ins[2][None, :, None, None]
                out = [y]
            elif op == "BatchNormalization":
                xx, scale, beta, mean, var = ins
                if train:
                    mean = jnp.mean(xx, axis=(0, 2, 3))
                    var = jnp.var(xx, axis=(0, 2, 3))
                    stats[n["name"]] = (mean, var)
                inv = scale / jnp.sqrt(var + a["epsilon"])
                out = [(xx - mean[None, :, None, None]) * inv[None, :, None, None] + beta[None, :, None, None]]
            elif op == "Relu":
                out = [jnp.maximum(ins[0], 0)]
            elif op == "Clip":
                out = [jnp.clip(ins[0], ins[1], ins[2])]
            elif op == "HardSwish":
                out = [ins[0] * jnp.clip(ins[0] / 6.0 + 0.5, 0.0, 1.0)]
            elif op == "HardSigmoid":
                out = [jnp.clip(ins[0] * a["alpha"] + a.get("beta", 0.5), 0.0, 1.0)]
            elif op == "Add":
                out = [ins[0] + ins[1]]
            elif op == "Mul":
                out = [ins[0] * ins[1]]
            elif op == "GlobalAveragePool":
                out = [jnp.mean(ins[0], axis=(2, 3), keepdims=True)]
            elif op == "MaxPool":
                p, k, s = a["pads"], a["kernel_shape"], a["strides"]
                out = [jax.lax.reduce_window(ins[0], -jnp.inf, jax.lax.max, (1, 1, k[0], k[1]),
                                             (1, 1, s[0], s[1]), [(0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])])]
            elif op == "Flatten":
                out = [ins[0].reshape(ins[0].shape[0], -1)]
            elif op == "Gemm":
                out = [jnp.dot(ins[0], ins[1].T, precision=jax.lax.Precision.HIGHEST) + ins[2]]
            elif op == "Reshape":
                out = [ins[0].reshape(tuple(int(v) for v in np.asarray(ins[1])))]
            elif op == "Transpose":
                out = [jnp.transpose(ins[0], a["perm"])]
            elif op == "Split":
                sizes = np.cumsum(np.asarray(ins[1]))[:-1]
                out = list(jnp.split(ins[0], sizes, axis=a["axis"]))
            elif op == "Concat":
                out = [jnp.concatenate(ins, axis=a["axis"])]
            else:
                raise ValueError(f"no jax rule for {op}")
            for name, v in zip(n["outputs"], out):
                env[name] = v
        return env[self.nodes[-1]["outputs"][0]], stats

    # -- ONNX writer ------------------------------------------------------------------

    def to_onnx(self, channels: int, height: int, width: int, classes: int,
                graph_name: str = "main_graph", opset: int = 17, doc: str = ""):
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        nodes = []
        used = set()
        for n in self.nodes:
            attrs = {}
            for k, v in n["attrs"].items():
                attrs[k] = numpy_helper.from_array(v, name="") if isinstance(v, np.ndarray) else v
            nodes.append(helper.make_node(n["op"], n["inputs"], n["outputs"], name=n["name"], **attrs))
            used.update(n["inputs"])
        # Rename the last output to "output", as the exporter does with output_names.
        last = self.nodes[-1]["outputs"][0]
        for node in nodes:
            for i, o in enumerate(node.output):
                if o == last:
                    node.output[i] = "output"
        inits = [numpy_helper.from_array(np.ascontiguousarray(v), name=k)
                 for k, v in self.params.items() if k in used]
        inp = helper.make_tensor_value_info(self.input, TensorProto.FLOAT, ["batch", channels, height, width])
        out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", classes])
        graph = helper.make_graph(nodes, graph_name, [inp], [out], initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="pytorch", producer_version="2.1.0")
        model.ir_version = 8
        if doc:
            model.doc_string = doc
        onnx.checker.check_model(model, full_check=True)
        return model
