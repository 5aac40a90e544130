import QuantaKernels
import QuantaRuntime

extension ImportContext {
    /// GlobalAveragePool, and ReduceMean over axes {2, 3} (keepdims 1 → `[N, C, 1, 1]`,
    /// keepdims 0 → `[N, C]`; both are `n × 1 × 1 × c`).
    func importGlobalAveragePool(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        var dims = [x.dims[0], x.dims[1], 1, 1]
        if op.opType == "ReduceMean" {
            var axes = op.ints("axes")
            if axes == nil, let name = op.optionalInput(1) { axes = try constant(name, op).integers.map { Int($0) } }
            let normalized = Set((axes ?? []).map { $0 < 0 ? $0 + 4 : $0 })
            guard normalized == [2, 3] else { throw op.unsupported("ReduceMean over axes \(axes ?? []) (only the spatial axes 2, 3)") }
            if op.int("keepdims", 1) == 0 { dims = [x.dims[0], x.dims[1]] }
        }
        emit(op, .globalAveragePool, inputs: [x.tensor], output: try op.output(0), dims: dims)
    }

    /// GlobalMaxPool: a max pool whose window is the whole H×W map.
    func importGlobalMaxPool(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        let window = PoolParameters(kernelH: x.dims[2], kernelW: x.dims[3], strideH: 1, strideW: 1)
        try op.check("the pooling window \(window.kernelH)×\(window.kernelW)", window.kernelH * window.kernelW, limit: ONNXLimits.maxPoolWindow)
        emit(op, .maxPool(window, .none), inputs: [x.tensor], output: try op.output(0), dims: [x.dims[0], x.dims[1], 1, 1])
    }

    /// ReduceMean / ReduceMax over any axes (the attribute before opset 18, the input from
    /// 18; none means all unless `noop_with_empty_axes`), `keepdims`. Over H and W of an
    /// NHWC-held `[N, C, H, W]`: the global average pool, or a max pool of the whole map.
    /// Otherwise the data is arranged as `[reduced…, kept…]` (one strided copy, or none),
    /// viewed as `1 × R × 1 × K` and pooled over R, then given the output's dims.
    func importReduce(_ op: NodeContext) throws {
        let held = try anyActivation(try op.input(0), op)
        let rank = held.dims.count
        let output = try op.output(0)
        var raw: [Int]? = op.opset < 18 ? op.ints("axes") : try op.optionalInput(1).map { try constant($0, op).integers.map { Int($0) } }
        if raw?.isEmpty ?? true {
            if op.int("noop_with_empty_axes", 0) != 0 {
                values[output] = .activation(held)
                return
            }
            raw = Array(0..<rank)
        }
        let axes = Set(try (raw ?? []).map { try op.axis($0, rank: rank, "\(op.opType) axis") })
        let keep = op.int("keepdims", 1) != 0
        let dims = keep ? held.dims.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            : held.dims.indices.filter { !axes.contains($0) }.map { held.dims[$0] }
        let mean = op.opType == "ReduceMean"
        if !held.plain, rank == 4, axes == [2, 3] {
            let window = PoolParameters(kernelH: held.dims[2], kernelW: held.dims[3], strideH: 1, strideW: 1)
            try op.check("the pooling window \(window.kernelH)×\(window.kernelW)", window.kernelH * window.kernelW, limit: ONNXLimits.maxPoolWindow)
            let reduced = [held.dims[0], held.dims[1], 1, 1]
            let a = emit(op, mean ? .globalAveragePool : .maxPool(window, .none), inputs: [held.tensor],
                         output: keep ? output : output + " [kept dims]", dims: reduced)
            if !keep { values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: dims)) }
            return
        }
        let a = plain(held, op)
        let reduced = axes.sorted(), kept = a.dims.indices.filter { !axes.contains($0) }
        let r = reduced.map { a.dims[$0] }.reduce(1, *), k = kept.map { a.dims[$0] }.reduce(1, *)
        try op.check("a reduction over \(r) values", r, limit: ONNXLimits.maxPoolWindow)
        let view = StridedView.transpose(shape: a.dims, permutation: reduced + kept)
        let arranged = graph.addTensor(GraphTensor(name: output + " [reduced axes first]", shape: TensorShape(n: 1, h: r, w: 1, c: k)))
        producer[arranged] = graph.addNode(GraphNode(
            name: op.name, op: view.isIdentity(inputCount: r * k) ? .reshape : .stridedCopy(view), inputs: [a.tensor], outputs: [arranged]))
        let pooled = graph.addTensor(GraphTensor(name: output + " [reduced]", shape: TensorShape(n: 1, h: 1, w: 1, c: k)))
        producer[pooled] = graph.addNode(GraphNode(
            name: op.name, op: mean ? .globalAveragePool : .maxPool(PoolParameters(kernelH: r, kernelW: 1, strideH: 1, strideW: 1), .none),
            inputs: [arranged], outputs: [pooled]))
        try emitPlain(op, .reshape, inputs: [pooled], output: output, dims: dims)
    }

    /// AveragePool / MaxPool (2-D). `ceil_mode` adds end padding (exact, since padded
    /// positions are excluded from averages and never win a max); AveragePool with
    /// `count_include_pad = 1` and non-zero padding is rejected.
    func importPool(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        guard let kernel = op.ints("kernel_shape"), kernel.count == 2,
            kernel.allSatisfy({ $0 >= 1 && $0 <= ModelFormat.maxGeometry })
        else {
            throw op.unsupported("kernel_shape \(op.ints("kernel_shape") ?? []) (2-D only)")
        }
        try op.check("the pooling window \(kernel[0])×\(kernel[1])", kernel[0] * kernel[1], limit: ONNXLimits.maxPoolWindow)
        let strides = try pair(op, "strides", 1)
        let dilations = try pair(op, "dilations", 1)
        guard dilations == [1, 1] else { throw op.unsupported("dilations \(dilations)") }
        var padding = try resolvePadding(
            op, inputH: x.dims[2], inputW: x.dims[3], kernelH: kernel[0], kernelW: kernel[1], strides: strides,
            dilations: dilations)
        // ONNX Runtime's rule: every pad below the kernel size it pads, so that no window
        // lies wholly in the padding.
        guard padding.top < kernel[0], padding.bottom < kernel[0], padding.left < kernel[1], padding.right < kernel[1] else {
            throw op.invalid("pads [\(padding.top), \(padding.left), \(padding.bottom), \(padding.right)] for kernel_shape \(kernel): each pad must be smaller than the kernel")
        }
        if op.int("ceil_mode", 0) == 1 {
            func extra(_ input: Int, _ k: Int, _ s: Int, _ before: Int, _ after: Int) -> Int {
                let span = input + before + after - k
                var out = (span + s - 1) / s + 1
                if (out - 1) * s >= input + before { out -= 1 }  // last window must start inside
                return max(0, (out - 1) * s + k - (input + before + after))
            }
            padding.bottom += extra(x.dims[2], kernel[0], strides[0], padding.top, padding.bottom)
            padding.right += extra(x.dims[3], kernel[1], strides[1], padding.left, padding.right)
        }
        if op.opType == "AveragePool" && op.int("count_include_pad", 0) != 0 && padding != .zero {
            throw op.unsupported("count_include_pad = 1 with padding")
        }
        let parameters = PoolParameters(
            kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1], padding: padding)
        let out = parameters.outputShape(input: nhwcShape(x.dims))
        guard out.h > 0, out.w > 0 else { throw op.mismatch("pool window \(kernel) does not fit input \(x.dims)") }
        let graphOp: GraphOp = op.opType == "MaxPool" ? .maxPool(parameters, .none) : .averagePool(parameters, .none)
        emit(op, graphOp, inputs: [x.tensor], output: try op.output(0), dims: [out.n, out.c, out.h, out.w])
    }
}
