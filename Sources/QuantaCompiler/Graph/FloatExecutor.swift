import CQuantaHost
import QuantaKernels

/// Why `FloatExecutor.run` could not run a graph.
public enum FloatExecutorError: Error, Equatable, CustomStringConvertible {
    /// `run` got `given` input arrays for a graph with `expected` inputs.
    case inputCount(expected: Int, given: Int)
    /// Input `name` has `given` elements, its NHWC shape needs `expected`.
    case inputSize(name: String, expected: Int, given: Int)
    /// A node reads a tensor that no earlier node computed.
    case missingValue(node: String, tensor: String)
    /// A node's tensors do not have the shapes its op requires.
    case shapeMismatch(node: String, detail: String)

    public var description: String {
        switch self {
        case .inputCount(let e, let g): return "the graph has \(e) inputs, \(g) were given"
        case .inputSize(let n, let e, let g): return "input '\(n)' needs \(e) values, \(g) were given"
        case .missingValue(let n, let t): return "node '\(n)': tensor '\(t)' has not been computed"
        case .shapeMismatch(let n, let d): return "node '\(n)': \(d)"
        }
    }
}

/// Runs a float `Graph` with the float reference kernels (`FloatReference`, `Layout`);
/// standard and depthwise convolutions on their vectorized form (`FastFloatConv`), which
/// gives the reference kernels' bits.
///
/// The reference for accuracy: calibration and `quanta eval` compare against it. Inputs
/// are NHWC, one array per graph input in `graph.inputs` order. `run` returns the value of
/// every tensor by index (NHWC): graph inputs, constants and every node output; nil for
/// tensors no node computes. Shapes are checked before every kernel call, so a malformed
/// graph gives an error, not a trap.
public struct FloatExecutor {
    public let graph: Graph
    /// Per node, the vectorized form of its convolution (`FastFloatConv`: standard and
    /// depthwise layers, bit-identical to the reference kernel), nil where the reference
    /// kernel runs.
    private let fastConvolutions: [FastFloatConv?]
    /// Pooling and elementwise add/mul on the C kernels of `Sources/CQuantaHost` (the same bits).
    private let fastKernels: Bool

    /// - Parameter fastKernels: run convolutions on `FastFloatConv` and pooling and
    ///   elementwise add/mul on the C kernels (the default; the same bits as the reference
    ///   kernels, several times faster); false: the reference kernels everywhere (tests
    ///   compare the two).
    public init(graph: Graph, fastKernels: Bool = true) {
        self.graph = graph
        self.fastKernels = fastKernels
        fastConvolutions = graph.nodes.map { node in
            guard fastKernels, let input = node.inputs.first, input >= 0, input < graph.tensors.count else { return nil }
            switch node.op {
            case .conv2D(let conv):
                return FastFloatConv(conv, inputChannels: graph.tensors[input].shape.c)
            case .fullyConnected(let fc):
                // A fully connected layer is a 1×1 convolution of a 1×1×inputCount image per
                // batch item, its [out][in] weights the OHWI filter: the same sums in the
                // same order (bias, then input by input), so the same bits.
                let filter = FilterShape(outputChannels: fc.outputCount, kernelH: 1, kernelW: 1, inputChannelsPerGroup: fc.inputCount)
                return FastFloatConv(ConvolutionOp(parameters: Conv2DParameters(), filter: filter, weights: fc.weights, bias: fc.bias,
                                                   clamp: fc.clamp), inputChannels: fc.inputCount)
            default:
                return nil
            }
        }
    }

    public func run(inputs: [[Float]]) throws -> [[Float]?] {
        guard inputs.count == graph.inputs.count else {
            throw FloatExecutorError.inputCount(expected: graph.inputs.count, given: inputs.count)
        }
        var values = [[Float]?](repeating: nil, count: graph.tensors.count)
        for (i, t) in graph.tensors.enumerated() where t.data != nil { values[i] = t.data }
        for (k, index) in graph.inputs.enumerated() {
            let t = graph.tensors[index]
            guard inputs[k].count == t.shape.elementCount else {
                throw FloatExecutorError.inputSize(name: t.name, expected: t.shape.elementCount, given: inputs[k].count)
            }
            values[index] = inputs[k]
        }
        for (index, node) in graph.nodes.enumerated() {
            var operands: [[Float]] = []
            for i in node.inputs {
                guard i >= 0, i < values.count, let v = values[i] else {
                    throw FloatExecutorError.missingValue(
                        node: node.name, tensor: i >= 0 && i < graph.tensors.count ? graph.tensors[i].name : "#\(i)")
                }
                guard v.count == graph.tensors[i].shape.elementCount else {
                    throw FloatExecutorError.shapeMismatch(
                        node: node.name, detail: "tensor '\(graph.tensors[i].name)' holds \(v.count) values, its shape \(graph.tensors[i].shape) needs \(graph.tensors[i].shape.elementCount)")
                }
                operands.append(v)
            }
            let results = try execute(node, operands, fast: fastConvolutions[index])
            for (o, r) in zip(node.outputs, results) { values[o] = r }
        }
        return values
    }

    /// `quanta_float_activation`'s code and constants for `kind`, nil for the activations
    /// that call libm (sigmoid, tanh, swish, elu, softplus: the reference loop).
    static func vectorActivation(_ kind: UnaryActivation) -> (Int32, Float, Float)? {
        switch kind {
        case .relu: return (Int32(QUANTA_ACTIVATION_CLIP), 0, .infinity)
        case .relu6: return (Int32(QUANTA_ACTIVATION_CLIP), 0, 6)
        case .clip(let lo, let hi): return (Int32(QUANTA_ACTIVATION_CLIP), lo, hi)
        case .hardSwish: return (Int32(QUANTA_ACTIVATION_HARD_SWISH), 0, 0)
        case .hardSigmoid(let a, let b): return (Int32(QUANTA_ACTIVATION_HARD_SIGMOID), a, b)
        case .leakyRelu(let a): return (Int32(QUANTA_ACTIVATION_LEAKY_RELU), a, 0)
        case .sigmoid, .tanh, .swish, .elu, .softplus: return nil
        }
    }

    // MARK: One node

    private func shape(_ i: Int) -> TensorShape { graph.tensors[i].shape }

    private func fail(_ node: GraphNode, _ detail: String) -> FloatExecutorError {
        .shapeMismatch(node: node.name, detail: detail)
    }

    private func execute(_ node: GraphNode, _ x: [[Float]], fast: FastFloatConv?) throws -> [[Float]] {
        guard let outIndex = node.outputs.first, node.outputs.count == 1 else {
            throw fail(node, "expected one output, has \(node.outputs.count)")
        }
        guard !x.isEmpty else { throw fail(node, "has no inputs") }
        let inShape = shape(node.inputs[0])
        let outShape = shape(outIndex)
        var out = fast == nil ? [Float](repeating: 0, count: outShape.elementCount) : []
        func check(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
            if !condition { throw fail(node, detail()) }
        }

        switch node.op {
        case .conv2D(let conv):
            let p = conv.parameters
            try check(p.groups >= 1 && inShape.c % p.groups == 0 && conv.filter.outputChannels % p.groups == 0
                && conv.filter.inputChannelsPerGroup * p.groups == inShape.c,
                "filter \(conv.filter) with \(p.groups) groups does not fit input \(inShape)")
            try check(p.outputShape(input: inShape, filter: conv.filter) == outShape,
                "output \(outShape) should be \(p.outputShape(input: inShape, filter: conv.filter))")
            try check(conv.weights.count == conv.filter.elementCount && conv.bias.count == conv.filter.outputChannels,
                "weights/bias sizes do not match filter \(conv.filter)")
            if let fast {
                // Every value is written by the kernel: no zero fill first.
                let count = outShape.elementCount
                return [x[0].withUnsafeBufferPointer { i in
                    [Float](unsafeUninitializedCapacity: count) { o, initialized in
                        fast.run(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape)
                        initialized = count
                    }
                }]
            }
            x[0].withUnsafeBufferPointer { i in
                conv.weights.withUnsafeBufferPointer { w in
                    conv.bias.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            FloatReference.conv2D(
                                input: i.baseAddress!, inputShape: inShape, weights: w.baseAddress!, filter: conv.filter,
                                bias: b.baseAddress, output: o.baseAddress!, outputShape: outShape, parameters: p,
                                clamp: conv.clamp)
                        }
                    }
                }
            }
        case .transposeConv2D(let t):
            let eh = Conv2DParameters.transposedOutputSize(
                input: inShape.h, kernel: t.filter.kernelH, stride: t.strideH, dilation: t.dilationH,
                padBefore: t.padding.top, padAfter: t.padding.bottom, outputPadding: t.outputPaddingH)
            let ew = Conv2DParameters.transposedOutputSize(
                input: inShape.w, kernel: t.filter.kernelW, stride: t.strideW, dilation: t.dilationW,
                padBefore: t.padding.left, padAfter: t.padding.right, outputPadding: t.outputPaddingW)
            try check(t.filter.inputChannelsPerGroup == inShape.c && t.filter.outputChannels == outShape.c
                && outShape.n == inShape.n && outShape.h == eh && outShape.w == ew,
                "filter \(t.filter), input \(inShape) and output \(outShape) do not agree")
            try check(t.weights.count == t.filter.elementCount && t.bias.count == t.filter.outputChannels,
                "weights/bias sizes do not match filter \(t.filter)")
            x[0].withUnsafeBufferPointer { i in
                t.weights.withUnsafeBufferPointer { w in
                    t.bias.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            FloatReference.transposeConv2D(
                                input: i.baseAddress!, inputShape: inShape, weights: w.baseAddress!, filter: t.filter,
                                bias: b.baseAddress, output: o.baseAddress!, outputShape: outShape, strideH: t.strideH,
                                strideW: t.strideW, dilationH: t.dilationH, dilationW: t.dilationW, padding: t.padding,
                                clamp: t.clamp)
                        }
                    }
                }
            }
        case .fullyConnected(let fc):
            try check(inShape.h * inShape.w * inShape.c == fc.inputCount && outShape.c == fc.outputCount
                && outShape.n == inShape.n && outShape.h == 1 && outShape.w == 1,
                "input \(inShape) / output \(outShape) do not fit \(fc.inputCount) → \(fc.outputCount)")
            try check(fc.weights.count == fc.inputCount * fc.outputCount && fc.bias.count == fc.outputCount,
                "weights/bias sizes do not match \(fc.inputCount) → \(fc.outputCount)")
            if let fast {
                let count = outShape.elementCount
                return [x[0].withUnsafeBufferPointer { i in
                    [Float](unsafeUninitializedCapacity: count) { o, initialized in
                        fast.run(input: i.baseAddress!, inputShape: TensorShape(n: inShape.n, h: 1, w: 1, c: fc.inputCount),
                                 output: o.baseAddress!, outputShape: TensorShape(n: inShape.n, h: 1, w: 1, c: fc.outputCount))
                        initialized = count
                    }
                }]
            }
            x[0].withUnsafeBufferPointer { i in
                fc.weights.withUnsafeBufferPointer { w in
                    fc.bias.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            FloatReference.fullyConnected(
                                input: i.baseAddress!, weights: w.baseAddress!, bias: b.baseAddress,
                                output: o.baseAddress!, batches: inShape.n, inputCount: fc.inputCount,
                                outputCount: fc.outputCount, clamp: fc.clamp)
                        }
                    }
                }
            }
        case .add(let clamp), .mul(let clamp):
            try check(x.count == 2, "needs two inputs")
            let s2 = shape(node.inputs[1])
            try check(outShape == inShape && broadcasts(s2, to: inShape), "cannot broadcast \(s2) to \(inShape)")
            var isAdd = false
            if case .add = node.op { isAdd = true }
            // The fast kernel takes equal shapes and a per-channel second operand.
            let perChannel = s2.h == 1 && s2.w == 1 && s2.c == inShape.c && (s2.n == 1 || s2.n == inShape.n)
            if fastKernels && (s2 == inShape || perChannel) {
                let pixels = inShape.h * inShape.w
                x[0].withUnsafeBufferPointer { a in
                    x[1].withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            if s2 == inShape {
                                quanta_float_elementwise(a.baseAddress!, b.baseAddress!, 1, inShape.elementCount, 0, isAdd ? 0 : 1,
                                                         o.baseAddress!, clamp.min, clamp.max)
                                return
                            }
                            for n in 0..<inShape.n {
                                quanta_float_elementwise(a.baseAddress! + n * pixels * inShape.c, b.baseAddress! + (s2.n == 1 ? 0 : n * inShape.c),
                                                         pixels, inShape.c, 1, isAdd ? 0 : 1, o.baseAddress! + n * pixels * inShape.c,
                                                         clamp.min, clamp.max)
                            }
                        }
                    }
                }
                return [out]
            }
            x[0].withUnsafeBufferPointer { a in
                x[1].withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        if isAdd {
                            FloatReference.add(
                                input1: a.baseAddress!, shape1: inShape, input2: b.baseAddress!, shape2: s2,
                                output: o.baseAddress!, outputShape: outShape, clamp: clamp)
                        } else {
                            FloatReference.mul(
                                input1: a.baseAddress!, shape1: inShape, input2: b.baseAddress!, shape2: s2,
                                output: o.baseAddress!, outputShape: outShape, clamp: clamp)
                        }
                    }
                }
            }
        case .averagePool(let p, let clamp), .maxPool(let p, let clamp):
            try check(p.kernelH >= 1 && p.kernelW >= 1 && p.strideH >= 1 && p.strideW >= 1
                && p.outputShape(input: inShape) == outShape,
                "output \(outShape) should be \(p.outputShape(input: inShape))")
            var isMax = false
            if case .maxPool = node.op { isMax = true }
            if fastKernels {
                var g = quanta_float_pool_geometry(
                    batches: outShape.n, input_h: inShape.h, input_w: inShape.w, channels: inShape.c, output_h: outShape.h,
                    output_w: outShape.w, kernel_h: p.kernelH, kernel_w: p.kernelW, stride_h: p.strideH, stride_w: p.strideW,
                    pad_top: p.padding.top, pad_left: p.padding.left)
                let status = x[0].withUnsafeBufferPointer { i in
                    out.withUnsafeMutableBufferPointer { o in
                        quanta_float_pool(i.baseAddress!, &g, isMax ? 1 : 0, o.baseAddress!, clamp.min, clamp.max)
                    }
                }
                try check(status == 0, "a pooling window lies wholly in the padding")
                return [out]
            }
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    if isMax {
                        FloatReference.maxPool(
                            input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                            parameters: p, clamp: clamp)
                    } else {
                        FloatReference.averagePool(
                            input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                            parameters: p, clamp: clamp)
                    }
                }
            }
        case .globalAveragePool:
            try check(outShape == TensorShape(n: inShape.n, h: 1, w: 1, c: inShape.c) && inShape.h * inShape.w > 0,
                "output \(outShape) should be \(inShape.n)×1×1×\(inShape.c)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    if fastKernels {
                        quanta_float_global_average_pool(i.baseAddress!, inShape.n, inShape.h * inShape.w, inShape.c, o.baseAddress!)
                    } else {
                        FloatReference.globalAveragePool(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!)
                    }
                }
            }
        case .channelShuffle(let groups):
            try check(outShape == inShape && groups > 0 && inShape.c % groups == 0, "\(inShape.c) channels in \(groups) groups")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.channelShuffle(input: i.baseAddress!, output: o.baseAddress!, shape: inShape, groups: groups)
                }
            }
        case .concat:
            var offset = 0
            for (k, index) in node.inputs.enumerated() {
                let s = shape(index)
                try check(s.n == outShape.n && s.h == outShape.h && s.w == outShape.w && offset + s.c <= outShape.c,
                    "input \(s) does not fit output \(outShape)")
                x[k].withUnsafeBufferPointer { i in
                    out.withUnsafeMutableBufferPointer { o in
                        Layout.concatChannels(
                            input: i.baseAddress!, inputChannels: s.c, output: o.baseAddress!, outputChannels: outShape.c,
                            channelOffset: offset, pixels: s.n * s.h * s.w)
                    }
                }
                offset += s.c
            }
            try check(offset == outShape.c, "inputs have \(offset) channels, output \(outShape.c)")
        case .sliceChannels(let start, let count):
            try check(start >= 0 && count > 0 && start + count <= inShape.c
                && outShape == TensorShape(n: inShape.n, h: inShape.h, w: inShape.w, c: count),
                "slice \(start)..<\(start + count) of \(inShape) into \(outShape)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.sliceChannels(
                        input: i.baseAddress!, inputChannels: inShape.c, output: o.baseAddress!, start: start,
                        count: count, pixels: inShape.n * inShape.h * inShape.w)
                }
            }
        case .pad(let padding, let value):
            try check(outShape == TensorShape(
                n: inShape.n, h: inShape.h + padding.top + padding.bottom, w: inShape.w + padding.left + padding.right,
                c: inShape.c), "output \(outShape) does not match padding \(padding) of \(inShape)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.pad(
                        input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                        padding: padding, value: value)
                }
            }
        case .stridedCopy(let view):
            guard let geometry = view.geometry, geometry.reads(within: inShape.elementCount),
                  view.elementCount == outShape.elementCount
            else { throw fail(node, "strided view \(view.dims) of \(inShape) into \(outShape)") }
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.stridedCopy(input: i.baseAddress!, output: o.baseAddress!, geometry: geometry)
                }
            }
        case .logSoftmax:
            try check(outShape == inShape && inShape.c > 0, "output \(outShape) should equal input \(inShape)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    FloatReference.logSoftmax(
                        input: i.baseAddress!, output: o.baseAddress!, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c)
                }
            }
        case .softmax:
            try check(outShape == inShape && inShape.c > 0, "output \(outShape) should equal input \(inShape)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    FloatReference.softmax(
                        input: i.baseAddress!, output: o.baseAddress!, rows: inShape.n * inShape.h * inShape.w,
                        channels: inShape.c)
                }
            }
        case .activation(let kind):
            try check(outShape == inShape, "output \(outShape) should equal input \(inShape)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    if fastKernels, let (code, a, b) = Self.vectorActivation(kind) {
                        quanta_float_activation(i.baseAddress!, o.baseAddress!, inShape.elementCount, code, a, b)
                    } else {
                        FloatReference.activation(input: i.baseAddress!, output: o.baseAddress!, count: inShape.elementCount, kind: kind)
                    }
                }
            }
        case .reshape:
            try check(outShape.elementCount == inShape.elementCount, "reshape of \(inShape) to \(outShape)")
            out = x[0]
        case .borderPad(let padding, let mode):
            try check(outShape == TensorShape(
                n: inShape.n, h: inShape.h + padding.top + padding.bottom, w: inShape.w + padding.left + padding.right,
                c: inShape.c), "output \(outShape) does not match padding \(padding) of \(inShape)")
            try check(inShape.h >= 1 && inShape.w >= 1, "border padding of an empty input \(inShape)")
            if mode == .reflect {
                try check(max(padding.top, padding.bottom) < inShape.h && max(padding.left, padding.right) < inShape.w,
                          "reflect padding \(padding) not below the input's size \(inShape)")
            }
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.borderPad(
                        input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                        padding: padding, mode: mode)
                }
            }
        case .upsampleNearest(let fh, let fw):
            try check(fh >= 1 && fw >= 1 && outShape == TensorShape(n: inShape.n, h: inShape.h * fh, w: inShape.w * fw, c: inShape.c),
                      "output \(outShape) is not \(inShape) upsampled by \(fh)×\(fw)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Layout.upsampleNearest(
                        input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                        factorH: fh, factorW: fw)
                }
            }
        case .resizeBilinear(let p):
            try check(outShape.n == inShape.n && outShape.c == inShape.c && inShape.h >= 1 && inShape.w >= 1
                      && outShape.h >= 1 && outShape.w >= 1 && p.scaleH > 0 && p.scaleW > 0,
                      "bilinear resize of \(inShape) to \(outShape) with scales \(p.scaleH), \(p.scaleW)")
            x[0].withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    FloatReference.resizeBilinear(
                        input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape, parameters: p)
                }
            }
        }
        return [out]
    }

    private func broadcasts(_ b: TensorShape, to a: TensorShape) -> Bool {
        (b.n == a.n || b.n == 1) && (b.h == a.h || b.h == 1) && (b.w == a.w || b.w == 1) && (b.c == a.c || b.c == 1)
    }
}
