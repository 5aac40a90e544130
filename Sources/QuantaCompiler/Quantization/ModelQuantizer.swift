import QuantaKernels

/// Float graph → int8 `QuantizedModel`, in the TFLite int8 scheme (see docs/CALIBRATION.md
/// and DESIGN.md "Numerics").
public enum ModelQuantizer {
    /// Calibrates `graph` on `samples` with the float reference (`Calibrator`), chooses every
    /// activation range with `options.method` and quantizes (`quantize(graph:ranges:options:)`).
    ///
    /// - Parameters:
    ///   - samples: `samples[s][i]` is the NHWC data of graph input `i` for sample `s`
    ///     (`graph.tensors[graph.inputs[i]].shape.elementCount` values).
    ///   - progress: called with `(0, n)` before the first sample and `(k, n)` after sample
    ///     `k` of `n` has been observed.
    /// - Returns: the same output for the same graph, samples (in the same order) and options.
    public static func quantize(
        graph: Graph, calibration samples: [[[Float]]], options: QuantizationOptions = QuantizationOptions(),
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> QuantizedModel {
        try quantizeReporting(graph: graph, calibration: samples, options: options, progress: progress).model
    }

    /// `quantize(graph:calibration:options:progress:)` with what calibration saw beyond
    /// the chosen ranges (`Calibrator.report(ranges:)`: clipping, outlier samples).
    /// `keepOutput`: a tensor whose float values per sample to return (`floatOutputs`, nil
    /// when they would take more than 2^24 floats; `Calibrator.keepOutput`).
    public static func quantizeReporting(
        graph: Graph, calibration samples: [[[Float]]], options: QuantizationOptions = QuantizationOptions(),
        keepOutput: Int? = nil, progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> (model: QuantizedModel, report: CalibrationReport, floatOutputs: [[Float]]?) {
        try quantizeReporting(graph: graph, sampleCount: samples.count, samples: { Array(samples[$0]) },
                              options: options, keepOutput: keepOutput, progress: progress)
    }

    /// The same, with the samples read a chunk at a time (`samples(range)`: the samples of
    /// `range`, each one array per graph input), so that only a chunk is in memory at once
    /// (`SampleStream`). The result does not depend on the chunk size.
    public static func quantizeReporting(
        graph: Graph, sampleCount: Int, samples: (Range<Int>) throws -> [[[Float]]], chunk: Int = 64,
        options: QuantizationOptions = QuantizationOptions(), keepOutput: Int? = nil,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> (model: QuantizedModel, report: CalibrationReport, floatOutputs: [[Float]]?) {
        try validate(options)
        guard sampleCount > 0 else { throw QuantizationError.noCalibrationSamples }
        var calibrator = try Calibrator(graph: graph, histogramBins: options.histogramBins)
        if let keepOutput { calibrator.keepOutput(keepOutput, samples: sampleCount) }
        progress?(0, sampleCount)
        var start = 0
        while start < sampleCount {
            let range = start..<min(sampleCount, start + max(1, chunk))
            try calibrator.observe(samples: try samples(range), firstIndex: start, workers: options.calibrationWorkers) {
                progress?(start + $0, sampleCount)
            }
            start = range.upperBound
        }
        let ranges = try calibrator.ranges(options.method)
        return (try quantize(graph: graph, ranges: ranges, options: options), calibrator.report(ranges: ranges), calibrator.keptOutputs)
    }

    /// Quantizes `graph` with the given activation ranges (`ranges[i]` for tensor `i`; nil
    /// for constants, see `ActivationQuantization.parameters`). The model's tensors have the
    /// graph's indices, names, shapes and source layouts; its ops are the graph's nodes in order.
    public static func quantize(graph: Graph, ranges: [ClosedRange<Float>?], options: QuantizationOptions = QuantizationOptions()) throws -> QuantizedModel {
        try graph.validate()
        let params = try ActivationQuantization.parameters(graph: graph, ranges: ranges)
        var tensors: [QuantizedTensor] = []
        tensors.reserveCapacity(graph.tensors.count)
        for (i, t) in graph.tensors.enumerated() {
            tensors.append(QuantizedTensor(
                name: t.name, shape: t.shape, quantization: params[i], sourceLayout: t.sourceLayout,
                data: t.data.map { $0.map { Quantizer.quantize($0, params[i]) } }))
        }
        var ops: [QuantizedOp] = []
        ops.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            let kind = try quantizeNode(node, graph: graph, params: params, options: options)
            ops.append(QuantizedOp(name: node.name, kind: kind, inputs: node.inputs, outputs: node.outputs))
        }
        var model = QuantizedModel(tensors: tensors, ops: ops, inputs: graph.inputs, outputs: graph.outputs)
        model.pairBoundedWeights = options.pairBoundedWeights
        return model
    }

    static func validate(_ options: QuantizationOptions) throws {
        if case .percentile(let p) = options.method, !(p > 0 && p <= 100) {
            throw QuantizationError.invalidPercentile(p)
        }
        if options.histogramBins < 256 || options.histogramBins % 2 != 0 {
            throw QuantizationError.invalidHistogramBins(options.histogramBins)
        }
    }

    private static func quantizeNode(
        _ node: GraphNode, graph: Graph, params: [QuantizationParameters], options: QuantizationOptions
    ) throws -> QuantizedOpKind {
        func arity(_ inputs: Int) throws {
            guard node.inputs.count == inputs, node.outputs.count == 1 else {
                throw QuantizationError.unsupported(
                    node: node.name, detail: "expected \(inputs) input(s) and 1 output, found \(node.inputs.count) and \(node.outputs.count)")
            }
        }
        /// Int8 weights, int32 bias and per-channel requantization of a weighted op with one
        /// activation input (conv, transposed conv, fully connected).
        func weighted(_ weights: [Float], _ bias: [Float], channels: Int, accumulatorTerms: Int, clamp: FloatClamp,
                      pairBound: Bool = false) throws
            -> (weights: [Int8], bias: [Int32], requantization: RequantizationConstants)
        {
            let inScale = params[node.inputs[0]].scale
            let (w, b) = try WeightQuantization.quantize(
                weights: weights, bias: bias, channels: channels, perTensor: options.perTensorWeights,
                inputScale: inScale, accumulatorTerms: accumulatorTerms, node: node.name, pairBound: pairBound)
            let r = try WeightQuantization.requantization(
                inputScale: inScale, weightScales: w.scales, output: output, clamp: clamp, node: node.name,
                shortMultipliers: options.shortMultipliers)
            return (w.values, b, r)
        }
        let output = node.outputs.first.map { params[$0] } ?? QuantizationParameters(scale: 1, zeroPoint: 0)
        switch node.op {
        case .conv2D(let op):
            try arity(1)
            // The 1×1 layers the uint8 × int8 GEMM can run (`KernelVariant.pointwiseU8`).
            let pairBound = options.pairBoundedWeights && op.parameters.groups == 1
                && GroupedConv.isDirect(filter: op.filter, parameters: op.parameters)
            let q = try weighted(op.weights, op.bias, channels: op.filter.outputChannels,
                                 accumulatorTerms: op.filter.kernelH * op.filter.kernelW * op.filter.inputChannelsPerGroup, clamp: op.clamp,
                                 pairBound: pairBound)
            return .conv2D(parameters: op.parameters, filter: op.filter, weights: q.weights, bias: q.bias, requantization: q.requantization)
        case .transposeConv2D(let op):
            try arity(1)
            guard op.dilationH == 1 && op.dilationW == 1 else {
                throw QuantizationError.unsupported(node: node.name, detail: "dilated transposed convolution (dilation \(op.dilationH)×\(op.dilationW))")
            }
            let q = try weighted(op.weights, op.bias, channels: op.filter.outputChannels,
                                 accumulatorTerms: op.filter.kernelH * op.filter.kernelW * op.filter.inputChannelsPerGroup, clamp: op.clamp)
            return .transposeConv2D(
                strideH: op.strideH, strideW: op.strideW, padding: op.padding,
                outputPaddingH: op.outputPaddingH, outputPaddingW: op.outputPaddingW, filter: op.filter,
                weights: q.weights, bias: q.bias, requantization: q.requantization)
        case .fullyConnected(let op):
            try arity(1)
            let q = try weighted(op.weights, op.bias, channels: op.outputCount, accumulatorTerms: op.inputCount, clamp: op.clamp)
            return .fullyConnected(
                outputCount: op.outputCount, inputCount: op.inputCount,
                weights: q.weights, bias: q.bias, requantization: q.requantization)
        case .add(let clamp):
            try arity(2)
            return .add(try ElementwiseQuantization.add(
                params[node.inputs[0]], params[node.inputs[1]], output: output, clamp: clamp, node: node.name,
                shortMultipliers: options.shortMultipliers))
        case .mul(let clamp):
            try arity(2)
            return .mul(try ElementwiseQuantization.mul(
                params[node.inputs[0]], params[node.inputs[1]], output: output, clamp: clamp, node: node.name))
        case .averagePool(let p, let clamp):
            try arity(1)
            let (lo, hi) = WeightQuantization.clampRange(clamp, output)
            return .averagePool(p, clampMin: lo, clampMax: hi)
        case .maxPool(let p, let clamp):
            try arity(1)
            let (lo, hi) = WeightQuantization.clampRange(clamp, output)
            return .maxPool(p, clampMin: lo, clampMax: hi)
        case .globalAveragePool:
            try arity(1)
            let (m, s) = try ElementwiseQuantization.globalAveragePool(input: params[node.inputs[0]], output: output, node: node.name)
            return .globalAveragePool(multiplier: m, shift: s)
        case .channelShuffle(let groups):
            try arity(1)
            return .channelShuffle(groups: groups)
        case .concat:
            guard !node.inputs.isEmpty, node.outputs.count == 1 else {
                throw QuantizationError.unsupported(node: node.name, detail: "concat needs inputs and one output")
            }
            return .concat
        case .sliceChannels(let start, let count):
            try arity(1)
            return .sliceChannels(start: start, count: count)
        case .pad(let padding, let value):
            try arity(1)
            return .pad(padding, value: Quantizer.quantize(value, output))
        case .softmax:
            try arity(1)
            return .softmax(expTable: ElementwiseQuantization.softmaxTable(inputScale: params[node.inputs[0]].scale))
        case .activation(let kind):
            try arity(1)
            return .lookupTable(ElementwiseQuantization.lookupTable(kind, input: params[node.inputs[0]], output: output))
        case .reshape:
            try arity(1)
            return .reshape
        case .stridedCopy(let view):
            try arity(1)
            return .stridedCopy(view)
        case .logSoftmax:
            try arity(1)
            let s = params[node.inputs[0]].scale
            return .logSoftmax(
                table: (0...255).map { d in FloatMath.exp(-s * Float(d)) }, inputScale: s, outputScale: output.scale,
                outputZeroPoint: output.zeroPoint)
        case .borderPad(let padding, let mode):
            try arity(1)
            return .borderPad(padding, mode: mode)
        case .upsampleNearest(let fh, let fw):
            try arity(1)
            return .upsampleNearest(factorH: fh, factorW: fw)
        case .resizeBilinear(let p):
            try arity(1)
            let i = graph.tensors[node.inputs[0]].shape, o = graph.tensors[node.outputs[0]].shape
            return .resizeBilinear(
                rows: ResizeTables.bilinear(p.transform, scale: p.scaleH, inputSize: i.h, outputSize: o.h),
                columns: ResizeTables.bilinear(p.transform, scale: p.scaleW, inputSize: i.w, outputSize: o.w))
        }
    }
}
