import QuantaKernels

extension TFLiteImporter {
    /// Imports a float `.tflite` (float32 tensors and weights) as the float graph that
    /// `quanta quantize` calibrates and quantizes with its own numerics, and that `quanta
    /// eval` / `quanta run` execute on the float reference. The operators of `supported`
    /// except QUANTIZE/DEQUANTIZE and SUB (SOFTMAX: the last axis, beta 1, with Quanta's own
    /// int8 softmax); NHWC as the file has it (`SourceLayout.nhwc`, rank-2 tensors `.nc`). An already-quantized model is
    /// refused with a pointer to `quanta import`.
    public static func importFloatGraph(bytes: [UInt8]) throws -> Graph {
        var conversion = TFLiteFloatConversion(file: try TFLiteModel(bytes: bytes))
        try conversion.run()
        return conversion.graph
    }

    /// Whether `bytes` look like a `.tflite` file (FlatBuffer identifier `TFL3` at byte 4).
    public static func isTFLite(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && bytes[4..<8].elementsEqual("TFL3".utf8)
    }
}

/// The state of one float import: the file, the graph built so far and where each TFLite
/// tensor went.
struct TFLiteFloatConversion: TFLiteFileAccess {
    let file: TFLiteModel
    var graph = Graph()
    var mapped: [Int: Int] = [:]

    mutating func run() throws {
        if file.subgraphCount > 1 {
            throw TFLiteImportError.unsupportedForm(op: "model", detail: "\(file.subgraphCount) subgraphs (control flow); only one is run")
        }
        if let t = file.tensors.firstIndex(where: { $0.type == .int8 || $0.type == .uint8 }) {
            throw TFLiteImportError.unsupportedForm(
                op: "model", detail: "tensor '\(file.tensors[t].name)' is \(file.tensors[t].type.name): the model is already quantized; `quanta import` reads it as it is")
        }
        for t in file.inputs { graph.inputs.append(try tensor(t, op: "graph input")) }
        for (index, op) in file.operators.enumerated() { try convert(op, index: index) }
        for t in file.outputs {
            guard let g = mapped[t] else {
                throw TFLiteImportError.invalidModel(op: "graph output '\(file.tensors[t].name)'", detail: "no operator writes it")
            }
            graph.outputs.append(g)
        }
    }

    /// The graph tensor of float tensor `t`, added on first use (a constant carries its data).
    mutating func tensor(_ t: Int, op: String) throws -> Int {
        if let g = mapped[t] { return g }
        let tensor = file.tensors[t]
        guard tensor.type == .float32 else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "\(tensor.type.name) tensor in a float model (\(op))")
        }
        let bytes = file.data(t)
        let shape = !bytes.isEmpty && tensor.shape.count <= 1
            ? TensorShape(n: 1, h: 1, w: 1, c: max(1, tensor.shape.first ?? 1)) : try nhwc(t)
        var data: [Float]?
        if !bytes.isEmpty { data = try floats(t, op: op, what: "constant") }
        graph.tensors.append(GraphTensor(name: tensor.name, shape: shape, data: data, sourceLayout: tensor.shape.count == 2 ? .nc : .nhwc))
        mapped[t] = graph.tensors.count - 1
        return graph.tensors.count - 1
    }

    /// The float32 values of constant `t`.
    func floats(_ t: Int?, op: String, what: String) throws -> [Float] {
        let (_, bytes) = try constant(t, type: .float32, op: op, what: what)
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: 4).map { p in
            Float(bitPattern: UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24)
        }
    }

    /// The float bias (input `index`: 2, or 3 for TRANSPOSE_CONV) of `channels` values,
    /// zeros when omitted.
    func bias(_ op: TFLiteOperator, index: Int = 2, channels: Int, name: String) throws -> [Float] {
        guard op.inputs.count > index, let t = op.inputs[index] else { return [Float](repeating: 0, count: channels) }
        let values = try floats(t, op: name, what: "bias")
        guard values.count == channels else {
            throw TFLiteImportError.invalidModel(op: name, detail: "bias of \(values.count) values for \(channels) output channels")
        }
        return values
    }

    /// The output of `op`, added to the graph, checked to have the shape the op computes.
    mutating func output(_ op: TFLiteOperator, name: String, shape: TensorShape?) throws -> Int {
        if let shape { try expect(op.outputs[0], shape, op: name) }
        return try newOutput(op.outputs[0], name: name)
    }

    mutating func materialize(_ t: Int, op: String) throws -> Int { try tensor(t, op: op) }

    mutating func add(_ op: GraphOp, inputs: [Int], output: Int, name: String) {
        graph.nodes.append(GraphNode(name: name, op: op, inputs: inputs, outputs: [output]))
    }

    mutating func convert(_ op: TFLiteOperator, index: Int) throws {
        let name = opName(op, index)
        let code = try builtinCode(op, index: index)
        typealias C = TFLiteOperatorCode
        if Self.moveCodes.contains(code) {
            return try move(op, code: code, name: name)
        }
        guard op.outputs.count == 1 else { throw TFLiteImportError.unsupportedForm(op: name, detail: "\(op.outputs.count) outputs") }
        switch code {
        case C.conv2D, C.depthwiseConv2D:
            let input = try self.input(op, 0, name: name)
            let inShape = graph.tensors[input].shape
            let g = code == C.conv2D
                ? try convolutionGeometry(op, name: name, input: inShape, filterType: .float32)
                : try depthwiseGeometry(op, name: name, input: inShape, filterType: .float32)
            var weights = try floats(g.filterTensor, op: name, what: "filter")
            if code == C.depthwiseConv2D {
                weights = Self.depthwiseToOHWI(weights, taps: g.filter.kernelH * g.filter.kernelW, channels: g.filter.outputChannels)
            }
            let output = try self.output(op, name: name, shape: g.output)
            add(.conv2D(ConvolutionOp(parameters: g.parameters, filter: g.filter, weights: weights,
                                      bias: try bias(op, channels: g.filter.outputChannels, name: name), clamp: try fusedActivation(g.activation, op: name))),
                inputs: [input], output: output, name: name)
        case C.transposeConv:
            let input = try self.input(op, 2, name: name)
            let g = try transposeConvolutionGeometry(op, name: name, input: graph.tensors[input].shape, filterType: .float32)
            let output = try self.output(op, name: name, shape: g.output)
            add(.transposeConv2D(TransposeConvolutionOp(
                strideH: g.stride.h, strideW: g.stride.w, padding: g.padding, outputPaddingH: g.outputPadding.h, outputPaddingW: g.outputPadding.w,
                filter: g.filter, weights: try floats(g.filterTensor, op: name, what: "weights"),
                bias: try bias(op, index: 3, channels: g.filter.outputChannels, name: name), clamp: try fusedActivation(g.activation, op: name))),
                inputs: [input], output: output, name: name)
        case C.fullyConnected:
            let input = try self.input(op, 0, name: name)
            let inShape = graph.tensors[input].shape
            let g = try fullyConnectedGeometry(op, name: name, input: inShape, weightType: .float32)
            let output = try self.output(op, name: name, shape: TensorShape(n: inShape.n, h: 1, w: 1, c: g.outputs))
            add(.fullyConnected(FullyConnectedOp(outputCount: g.outputs, inputCount: g.perItem, weights: try floats(g.weights, op: name, what: "weights"),
                                                 bias: try bias(op, channels: g.outputs, name: name), clamp: try fusedActivation(g.activation, op: name))),
                inputs: [input], output: output, name: name)
        case C.add, C.mul:
            let options = try self.options(op, type: code == C.add ? 11 : 21, name: name)
            let x = try input(op, 0, name: name), y = try input(op, 1, name: name)
            let (a, b, shape) = try binaryOperands((x, graph.tensors[x].shape), (y, graph.tensors[y].shape), commutes: true, name: name)
            let c = try fusedActivation(try options?.i8(0) ?? 0, op: name)
            let output = try self.output(op, name: name, shape: shape)
            add(code == C.add ? .add(c) : .mul(c), inputs: [a, b], output: output, name: name)
        case C.averagePool2D, C.maxPool2D:
            let input = try self.input(op, 0, name: name)
            let g = try poolGeometry(op, name: name, input: graph.tensors[input].shape)
            let output = try self.output(op, name: name, shape: g.output)
            let c = try fusedActivation(g.activation, op: name)
            add(code == C.maxPool2D ? .maxPool(g.parameters, c) : .averagePool(g.parameters, c), inputs: [input], output: output, name: name)
        case C.mean:
            let input = try self.input(op, 0, name: name)
            try checkMean(op, name: name)
            let s = graph.tensors[input].shape
            let output = try self.output(op, name: name, shape: TensorShape(n: s.n, h: 1, w: 1, c: s.c))
            add(.globalAveragePool, inputs: [input], output: output, name: name)
        case C.pad, C.padV2:
            let input = try self.input(op, 0, name: name)
            let p = try padGeometry(op, name: name)
            var value: Float = 0
            if code == C.padV2, op.inputs.count > 2, let v = op.inputs[2] {
                let values = try floats(v, op: name, what: "constant value")
                guard values.count == 1 else { throw TFLiteImportError.invalidModel(op: name, detail: "constant value of \(values.count) elements") }
                value = values[0]
            }
            let s = graph.tensors[input].shape
            let output = try self.output(op, name: name, shape: TensorShape(n: s.n, h: s.h + p.top + p.bottom, w: s.w + p.left + p.right, c: s.c))
            add(.pad(p, value: value), inputs: [input], output: output, name: name)
        case C.reshape, C.squeeze, C.expandDims:
            let input = try self.input(op, 0, name: name)
            let output = try self.output(op, name: name, shape: nil)
            guard graph.tensors[input].shape.elementCount == graph.tensors[output].shape.elementCount else {
                throw TFLiteImportError.invalidModel(op: name, detail: "the element count changes")
            }
            add(.reshape, inputs: [input], output: output, name: name)
        case C.resizeBilinear, C.resizeNearest:
            let input = try self.input(op, 0, name: name)
            let s = graph.tensors[input].shape
            let bilinear = code == C.resizeBilinear
            let g = try resizeGeometry(op, name: name, input: s, bilinear: bilinear)
            let output = try self.output(op, name: name, shape: g.output)
            if bilinear {
                let transform: ResizeCoordinateTransform = g.alignCorners ? .alignCorners : g.halfPixelCenters ? .halfPixel : .asymmetric
                add(.resizeBilinear(ResizeBilinearParameters(
                    transform: transform, scaleH: Double(g.output.h) / Double(s.h), scaleW: Double(g.output.w) / Double(s.w))),
                    inputs: [input], output: output, name: name)
            } else {
                add(.upsampleNearest(factorH: g.output.h / s.h, factorW: g.output.w / s.w), inputs: [input], output: output, name: name)
            }
        case C.softmax:
            // SoftmaxOptions: beta 0.
            let beta = try self.options(op, type: 9, name: name)?.f32(0, default: 1) ?? 1
            guard beta == 1 else { throw TFLiteImportError.unsupportedForm(op: name, detail: "softmax beta \(beta) (only 1)") }
            let input = try self.input(op, 0, name: name)
            let output = try self.output(op, name: name, shape: graph.tensors[input].shape)
            add(.softmax, inputs: [input], output: output, name: name)
        case C.hardSwish, C.logistic, C.tanh, C.relu, C.relu6, C.reluN1To1, C.relu0To1, C.leakyRelu:
            let activation: UnaryActivation
            switch code {
            case C.hardSwish: activation = .hardSwish
            case C.logistic: activation = .sigmoid
            case C.tanh: activation = .tanh
            case C.relu: activation = .relu
            case C.relu6: activation = .relu6
            case C.reluN1To1: activation = .clip(min: -1, max: 1)
            case C.relu0To1: activation = .clip(min: 0, max: 1)
            default: activation = .leakyRelu(alpha: try self.options(op, type: 75, name: name)?.f32(0) ?? 0)
            }
            let input = try self.input(op, 0, name: name)
            let output = try self.output(op, name: name, shape: graph.tensors[input].shape)
            add(.activation(activation), inputs: [input], output: output, name: name)
        default:
            throw TFLiteImportError.unsupportedOperator(index: index, name: TFLiteOperatorCode.name(code), supported: TFLiteImporter.supported)
        }
    }

    mutating func addTensor(like t: Int, shape: TensorShape, name: String) -> Int {
        graph.tensors.append(GraphTensor(name: name, shape: shape))
        return graph.tensors.count - 1
    }

    mutating func emit(_ move: TFLiteMove, inputs: [Int], output: Int, name: String) throws {
        let op: GraphOp
        switch move {
        case .reshape: op = .reshape
        case .concat: op = .concat
        case .sliceChannels(let start, let count): op = .sliceChannels(start: start, count: count)
        case .stridedCopy(let view): op = .stridedCopy(view)
        }
        add(op, inputs: inputs, output: output, name: name)
    }
}
