import Foundation
import QuantaKernels

/// Options for `ONNXImporter`.
public struct ONNXImportOptions {
    /// The batch size used where an input's first dimension is dynamic (`dim_param`, -1 or 0).
    public var batchSize: Int
    /// Full shapes, in the model's own order (NCHW or NC), for inputs with dynamic
    /// dimensions other than the batch. A shape given here replaces the model's.
    public var inputShapes: [String: [Int]]

    public init(batchSize: Int = 1, inputShapes: [String: [Int]] = [:]) {
        self.batchSize = batchSize
        self.inputShapes = inputShapes
    }
}

/// Imports an ONNX model into the float `Graph`.
///
/// Guarantees:
/// - NCHW activations become NHWC once, here: conv weights `[O, I/g, kH, kW]` become OHWI,
///   `[N, C]` tensors become `N × 1 × 1 × C`, and a flatten of a spatial tensor permutes
///   the columns of the fully connected layer that reads it, so that no transpose is left
///   in the graph.
/// - Graph inputs and outputs record their `sourceLayout` (`.nchw` for rank 4, `.nc` for rank 2).
/// - Initializers listed among the graph inputs (old exporters) are constants, not inputs.
/// - Constant subgraphs over shapes (Shape → Gather → Unsqueeze → Concat → Reshape) are
///   evaluated at import; a standalone BatchNormalization becomes a 1×1 depthwise
///   convolution (`FoldBatchNormPass` folds it into the preceding convolution).
/// - The Reshape → Transpose(0,2,1,3,4) → Reshape pattern becomes `.channelShuffle(groups:)`.
/// The graph is returned before the passes run (see `GraphPassPipeline`).
public enum ONNXImporter {
    /// Op types the importer understands (ai.onnx domain).
    public static let supportedOps: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "ConvTranspose", "DepthToSpace", "Div", "Dropout", "Elu", "Equal", "Expand", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool",
        "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "LogSoftmax", "MatMul", "Max", "MaxPool", "Min", "Mul", "Neg", "Pad",
        "PRelu", "Range", "ReduceMax", "ReduceMean", "Relu", "Reshape", "Resize", "Shape", "Sigmoid", "Slice", "Softmax", "Split", "Squeeze",
        "Softplus", "SpaceToDepth", "Sub", "Tanh", "Transpose", "Unsqueeze", "Upsample", "Where",
    ]

    /// Imports the `.onnx` file at `path`.
    public static func importModel(path: String, options: ONNXImportOptions = ONNXImportOptions()) throws -> Graph {
        let bytes = try FileIO.read(path)
        do {
            return try importModel(bytes: bytes, options: options)
        } catch {
            throw SourcedError(source: path, underlying: error)
        }
    }

    /// Imports a serialized `ModelProto`.
    public static func importModel(bytes: [UInt8], options: ONNXImportOptions = ONNXImportOptions()) throws -> Graph {
        let model: ONNXModelProto
        do {
            model = try ONNXModelProto(bytes: bytes)
        } catch let e as ProtobufError {
            throw ONNXImportError.malformedProtobuf(e)
        }
        return try importModel(model, options: options)
    }

    /// Imports a decoded model.
    public static func importModel(_ model: ONNXModelProto, options: ONNXImportOptions = ONNXImportOptions()) throws -> Graph {
        guard let graph = model.graph else { throw ONNXImportError.missingGraph }
        for o in model.opsetImports where (o.domain == "" || o.domain == "ai.onnx") && !ONNXLimits.opsets.contains(Int(clamping: o.version)) {
            throw ONNXImportError.invalidGraph(detail: "opset \(o.version) of the default domain is not supported (\(ONNXLimits.opsets.lowerBound)...\(ONNXLimits.opsets.upperBound))")
        }
        let context = ImportContext(graph: graph, opset: model.defaultOpsetVersion, options: options)
        do {
            return try context.run()
        } catch let e as ProtobufError {
            throw ONNXImportError.malformedProtobuf(e)
        }
    }
}

/// An activation during import: a tensor of the graph with its ONNX shape.
struct ImportedActivation {
    var tensor: Int
    /// The ONNX shape (rank 2 `[N, C]` or rank 4 `[N, C, H, W]`).
    var dims: [Int]
    /// Set when this rank-2 value is the flatten of an `[N, C, H, W]` tensor with
    /// `H * W > 1`: its elements are then in NHWC order, not ONNX's CHW order.
    var flattenedFrom: [Int]?
    /// The bytes are in ONNX's row-major order of `dims` (any rank 1–6; the graph tensor's
    /// shape is `plainShape(dims)`), not NHWC: what general Reshape and Transpose make.
    /// `ImportContext.activation` turns a rank-4 one back into NHWC for the ops that need
    /// it (a strided copy).
    var plain = false
}

/// A constant during import (initializer, Constant node, or folded shape arithmetic).
struct ImportedConstant {
    var dims: [Int]
    var floats: [Float]
    /// The exact integer values, for integer tensors (shapes, axes, pads, starts/ends).
    var ints: [Int64]?

    init(dims: [Int], floats: [Float], ints: [Int64]? = nil) {
        self.dims = dims
        self.floats = floats
        self.ints = ints
    }

    init(dims: [Int], ints: [Int64]) {
        self.dims = dims
        self.ints = ints
        self.floats = ints.map { Float($0) }
    }

    var integers: [Int64] { ints ?? floats.map { ONNXLimits.saturatingInt64($0) } }
    var count: Int { floats.count }
}

/// A value of the ONNX graph during import.
enum ImportedValue {
    case activation(ImportedActivation)
    case constant(ImportedConstant)
    /// `[N, C, H, W]` reshaped to `[N, g, C/g, H, W]` (first step of a channel shuffle).
    case shuffleSplit(ImportedActivation, groups: Int)
    /// The above transposed by `(0, 2, 1, 3, 4)` (second step).
    case shuffleTransposed(ImportedActivation, groups: Int)
    /// An `[N, C, H, W]` activation transposed by `(0, 2, 3, 1)` to `[N, H, W, C]` (tf2onnx's
    /// last op before an NHWC graph output): the NHWC data as it is.
    case nhwcView(ImportedActivation)

    var onnxDims: [Int] {
        switch self {
        case .activation(let a): return a.dims
        case .constant(let c): return c.dims
        case .shuffleSplit(let a, let g): return [a.dims[0], g, a.dims[1] / g, a.dims[2], a.dims[3]]
        case .shuffleTransposed(let a, let g): return [a.dims[0], a.dims[1] / g, g, a.dims[2], a.dims[3]]
        case .nhwcView(let a): return [a.dims[0], a.dims[2], a.dims[3], a.dims[1]]
        }
    }
}

/// The state of one import: the graph being built and the ONNX name → value map.
final class ImportContext {
    let source: ONNXGraphProto
    let opset: Int
    let options: ONNXImportOptions
    var graph = Graph()
    var values: [String: ImportedValue] = [:]
    /// How many nodes (and graph outputs) read each ONNX value.
    var onnxConsumers: [String: Int] = [:]
    /// The graph node that produced each tensor.
    var producer: [Int: Int] = [:]
    /// The NHWC copy made of each plain `[N, C, H, W]` tensor (`nhwc`), so that its readers
    /// share one copy.
    var nhwcCopies: [Int: ImportedActivation] = [:]

    init(graph: ONNXGraphProto, opset: Int, options: ONNXImportOptions) {
        self.source = graph
        self.opset = opset
        self.options = options
    }

    /// The rules of the ONNX specification ONNX Runtime checks at load: every initializer
    /// defined once, every value (node output) defined once and not also an initializer or
    /// a graph input, an input that has an initializer declaring the initializer's shape.
    func validateStructure() throws {
        var initializers: [String: [Int64]] = [:]
        for t in source.initializers {
            guard initializers.updateValue(t.dims, forKey: t.name) == nil else {
                throw ONNXImportError.invalidGraph(detail: "initializer '\(t.name)' is defined twice")
            }
        }
        var definedBy: [String: String] = [:]
        for input in source.inputs {
            if let dims = initializers[input.name], let shape = input.shape {
                let declared: [Int64?] = shape.map { if case .value(let v) = $0 { return v } else { return nil } }
                guard declared.count == dims.count, zip(declared, dims).allSatisfy({ $0 == nil || $0 == $1 }) else {
                    throw ONNXImportError.invalidGraph(detail: "input '\(input.name)' declares a shape other than its initializer's \(dims)")
                }
            }
            // A negative dim is dynamic, as ONNX Runtime reads it (Paddle2ONNX writes -1); a 0
            // declares a tensor without elements, which has nothing to calibrate or run.
            for (axis, d) in (input.shape ?? []).enumerated() {
                if case .value(let v) = d, v == 0 {
                    throw ONNXImportError.invalidGraph(detail: "input '\(input.name)' declares dimension \(axis) as 0 (a tensor without elements)")
                }
            }
            definedBy[input.name] = "graph input"
        }
        for t in source.initializers where definedBy[t.name] == nil { definedBy[t.name] = "initializer" }
        for (index, node) in source.nodes.enumerated() {
            for o in node.outputs where !o.isEmpty {
                if let first = definedBy[o] {
                    throw ONNXImportError.invalidGraph(detail: "value '\(o)' is defined twice: by \(first) and by node '\(nodeName(node, index))'")
                }
                definedBy[o] = "node '\(nodeName(node, index))'"
            }
        }
    }

    func run() throws -> Graph {
        try validateStructure()
        for node in source.nodes { for i in node.inputs where !i.isEmpty { onnxConsumers[i, default: 0] += 1 } }
        for o in source.outputs { onnxConsumers[o.name, default: 0] += 1 }

        var initializerNames = Set<String>()
        for t in source.initializers {
            initializerNames.insert(t.name)
            values[t.name] = .constant(try constant(from: t))
        }
        for input in source.inputs where !initializerNames.contains(input.name) {
            try addGraphInput(input)
        }
        for (index, node) in source.nodes.enumerated() {
            try importNode(node, index: index)
        }
        for output in source.outputs {
            try addGraphOutput(output.name)
        }
        try checkFloatWork()
        try graph.validate()
        return graph
    }

    /// The float work of one pass over the graph (what calibration, `quanta eval` and
    /// `quanta run MODEL.onnx` do per sample), in multiply-accumulates or window elements,
    /// against `ONNXLimits.maxMACsPerSample`: before any sample runs, so that a small file
    /// with a huge window or padding is refused at once. The heaviest node is named.
    func checkFloatWork() throws {
        let work = graph.floatWork()
        try NodeContext.checkWork(node: work.heaviest, work.total)
    }

    // MARK: Inputs and outputs

    private func addGraphInput(_ input: ONNXValueInfoProto) throws {
        var dims: [Int]
        if let given = options.inputShapes[input.name] {
            dims = given
        } else {
            let reader = source.nodes.enumerated().first { $0.element.inputs.contains(input.name) }
                .map { nodeName($0.element, $0.offset) } ?? "(graph output)"
            guard let shape = input.shape else {
                throw ONNXImportError.unresolvedDynamicDimension(input: input.name, axis: 0, dimension: "unknown rank", node: reader)
            }
            dims = []
            for (axis, d) in shape.enumerated() {
                var resolved: Int?
                var label = "?"
                switch d {
                case .value(let v) where v > 0: resolved = Int(v)
                case .value(let v): label = "\(v)"
                case .param(let p): label = p
                case .unknown: label = "?"
                }
                if resolved == nil && axis == 0 { resolved = options.batchSize }
                guard let r = resolved else {
                    throw ONNXImportError.unresolvedDynamicDimension(input: input.name, axis: axis, dimension: label, node: reader)
                }
                dims.append(r)
            }
        }
        let layout: SourceLayout
        switch dims.count {
        case 4: layout = .nchw
        case 2: layout = .nc
        case 1, 3, 5, 6: layout = .nhwc  // held in ONNX order (`plain`): the data as it is
        default: throw ONNXImportError.unsupportedInputRank(input: input.name, shape: dims)
        }
        guard dims.allSatisfy({ $0 > 0 }) else { throw ONNXImportError.unsupportedInputRank(input: input.name, shape: dims) }
        guard ONNXLimits.elementCount(dims) != nil else {
            throw ONNXImportError.invalidTensorDims(tensor: input.name, dims: dims.map { Int64($0) })
        }
        let plain = layout == .nhwc
        let index = graph.addTensor(GraphTensor(name: input.name, shape: plain ? plainShape(dims) : nhwcShape(dims), sourceLayout: layout))
        graph.inputs.append(index)
        values[input.name] = .activation(ImportedActivation(tensor: index, dims: dims, plain: plain))
    }

    private func addGraphOutput(_ name: String) throws {
        guard let value = values[name] else { throw ONNXImportError.unsupportedOutput(name: name, detail: "not computed by any node") }
        if case .nhwcView(let a) = value {
            graph.tensors[a.tensor].name = name
            graph.tensors[a.tensor].sourceLayout = .nhwc
            graph.outputs.append(a.tensor)
            return
        }
        guard case .activation(var a) = value else {
            throw ONNXImportError.unsupportedOutput(name: name, detail: "not an activation tensor (constant or partial pattern)")
        }
        // A flatten kept in NHWC order is copied into ONNX's order for the output.
        if a.flattenedFrom != nil { a = plain(a, node: name) }
        if !graph.inputs.contains(a.tensor) {
            graph.tensors[a.tensor].name = name
            // A plain tensor is in ONNX's order already (written as its four held dims).
            graph.tensors[a.tensor].sourceLayout = a.plain ? .nhwc : a.dims.count == 4 ? .nchw : .nc
        }
        graph.outputs.append(a.tensor)
    }

    // MARK: Nodes

    private func importNode(_ node: ONNXNodeProto, index: Int) throws {
        if !(node.domain.isEmpty || node.domain == "ai.onnx") {
            throw ONNXImportError.unsupportedOp(
                node: nodeName(node, index), opType: "\(node.domain).\(node.opType)", supported: ONNXImporter.supportedOps)
        }
        let op = NodeContext(node: node, name: nodeName(node, index), opset: opset)
        // Ops whose inputs are all constants are evaluated now (shape arithmetic).
        if try foldConstantNode(op) { return }
        switch node.opType {
        case "Conv": try importConv(op)
        case "ConvTranspose": try importConvTranspose(op)
        case "BatchNormalization": try importBatchNormalization(op)
        case "Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Softplus": try importActivation(op)
        case "Min", "Max": try importMinMax(op)
        case "PRelu": try importPRelu(op)
        case "Expand": try importExpand(op)
        case "Resize", "Upsample": try importResize(op)
        case "Add", "Mul", "Sub", "Div": try importBinary(op)
        case "GlobalAveragePool": try importGlobalAveragePool(op)
        case "GlobalMaxPool": try importGlobalMaxPool(op)
        case "Gather": try importGather(op)
        case "Neg": try importNeg(op)
        case "ReduceMean", "ReduceMax": try importReduce(op)
        case "AveragePool", "MaxPool": try importPool(op)
        case "Gemm": try importGemm(op)
        case "MatMul": try importMatMul(op)
        case "Softmax", "LogSoftmax": try importSoftmax(op)
        case "Flatten": try importFlatten(op)
        case "Reshape": try importReshape(op)
        case "Transpose": try importTranspose(op)
        case "Concat": try importConcat(op)
        case "Split": try importSplit(op)
        case "Slice": try importSlice(op)
        case "Pad": try importPad(op)
        case "Squeeze", "Unsqueeze": try importSqueeze(op)
        case "Identity", "Dropout", "Cast":
            values[try op.output(0)] = try value(op.input(0), op)
        case "Constant": try importConstantNode(op)
        case "DepthToSpace", "SpaceToDepth": try importDepthSpace(op)
        case "Shape": try importShape(op)
        default:
            throw ONNXImportError.unsupportedOp(node: op.name, opType: node.opType, supported: ONNXImporter.supportedOps)
        }
    }

    func nodeName(_ node: ONNXNodeProto, _ index: Int) -> String {
        if !node.name.isEmpty { return node.name }
        if let o = node.outputs.first, !o.isEmpty { return o }
        return "\(node.opType)_\(index)"
    }

    // MARK: Helpers for op importers

    func value(_ name: String, _ op: NodeContext) throws -> ImportedValue {
        guard let v = values[name] else { throw ONNXImportError.missingValue(node: op.name, name: name) }
        return v
    }

    /// The activation named `name`; rank 2 or 4 held NHWC (a `plain` one is copied back),
    /// never a partial shuffle pattern.
    func activation(_ name: String, _ op: NodeContext) throws -> ImportedActivation {
        switch try value(name, op) {
        case .activation(let a): return try nhwc(a, op)
        case .constant:
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType, detail: "input '\(name)' is a constant where an activation is expected")
        case .nhwcView:
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType,
                detail: "input '\(name)' is an NCHW → NHWC transpose, supported only as a graph output")
        case .shuffleSplit, .shuffleTransposed:
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType,
                detail: "input '\(name)' is a rank-5 tensor that is not part of a channel shuffle")
        }
    }

    /// The rank-4 activation named `name` (with its NCHW dims).
    func spatialActivation(_ name: String, _ op: NodeContext) throws -> ImportedActivation {
        let a = try activation(name, op)
        guard a.dims.count == 4 else {
            throw ONNXImportError.shapeMismatch(node: op.name, detail: "input '\(name)' must be [N, C, H, W], is \(a.dims)")
        }
        return a
    }

    func constant(_ name: String, _ op: NodeContext) throws -> ImportedConstant {
        guard case .constant(let c) = try value(name, op) else {
            throw ONNXImportError.expectedConstant(node: op.name, input: name)
        }
        return c
    }

    func constant(from tensor: ONNXTensorProto) throws -> ImportedConstant {
        let dims = tensor.dims.map { Int($0) }
        if let type = ONNXTensorProto.DataType(rawValue: tensor.dataType),
            [.int64, .int32, .int8, .uint8, .int16, .uint16, .bool, .uint32, .uint64].contains(type)
        {
            return ImportedConstant(dims: dims, ints: try tensor.int64Values())
        }
        return ImportedConstant(dims: dims, floats: try tensor.floatValues())
    }

    /// Adds a tensor and a node computing it; records the ONNX output name.
    @discardableResult
    func emit(_ op: NodeContext, _ graphOp: GraphOp, inputs: [Int], output: String, dims: [Int], flattenedFrom: [Int]? = nil) -> ImportedActivation {
        let t = graph.addTensor(GraphTensor(name: output, shape: nhwcShape(dims)))
        let n = graph.addNode(GraphNode(name: op.name, op: graphOp, inputs: inputs, outputs: [t]))
        producer[t] = n
        let a = ImportedActivation(tensor: t, dims: dims, flattenedFrom: flattenedFrom)
        values[output] = .activation(a)
        return a
    }

    /// As `emit`, for an output held in ONNX order (`plain`): rank at most 6, and a strided
    /// copy's view of at most 6 axes (`StridedCopyGeometry`), else an error naming the node.
    @discardableResult
    func emitPlain(_ op: NodeContext, _ graphOp: GraphOp, inputs: [Int], output: String, dims: [Int]) throws -> ImportedActivation {
        guard dims.count <= StridedCopyGeometry.rank else {
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType, detail: "a rank-\(dims.count) result (tensors of rank 7 and more are not supported)")
        }
        if case .stridedCopy(let view) = graphOp, view.geometry == nil {
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType, detail: "a data movement of \(view.normalized.dims.count) axes (at most 6)")
        }
        let t = graph.addTensor(GraphTensor(name: output, shape: plainShape(dims)))
        producer[t] = graph.addNode(GraphNode(name: op.name, op: graphOp, inputs: inputs, outputs: [t]))
        let a = ImportedActivation(tensor: t, dims: dims, plain: true)
        values[output] = .activation(a)
        return a
    }

    /// Emits an op whose output is held as `a` is (NHWC, with `a`'s flatten order, or plain):
    /// elementwise ops and moves that keep the holding.
    @discardableResult
    func emitLike(_ a: ImportedActivation, _ op: NodeContext, _ graphOp: GraphOp, inputs: [Int], output: String, dims: [Int]) throws -> ImportedActivation {
        a.plain ? try emitPlain(op, graphOp, inputs: inputs, output: output, dims: dims)
            : emit(op, graphOp, inputs: inputs, output: output, dims: dims, flattenedFrom: a.flattenedFrom)
    }

    /// The activation named `name` as it is held: NHWC or `plain`.
    func anyActivation(_ name: String, _ op: NodeContext) throws -> ImportedActivation {
        if case .activation(let a) = try value(name, op), a.plain { return a }
        return try activation(name, op)
    }

    /// `a` in ONNX order: itself when plain or `[N, C]`; an NHWC-held `[N, C, H, W]` (or the
    /// NHWC-ordered flatten of one) through a strided copy to NCHW.
    func plain(_ a: ImportedActivation, _ op: NodeContext) -> ImportedActivation {
        plain(a, node: op.name)
    }

    /// `plain(_:_:)` for a copy made on behalf of node `node` (or a graph output).
    func plain(_ a: ImportedActivation, node: String) -> ImportedActivation {
        if a.plain { return a }
        guard a.dims.count == 4 || a.flattenedFrom != nil else { return ImportedActivation(tensor: a.tensor, dims: a.dims, plain: true) }
        let d = a.flattenedFrom ?? a.dims  // [N, C, H, W], stored [N, H, W, C]
        let view = StridedView.transpose(shape: [d[0], d[2], d[3], d[1]], permutation: [0, 3, 1, 2])
        let name = graph.tensors[a.tensor].name + " [NCHW]"
        let t = graph.addTensor(GraphTensor(name: name, shape: plainShape(a.dims)))
        producer[t] = graph.addNode(GraphNode(name: node, op: .stridedCopy(view), inputs: [a.tensor], outputs: [t]))
        return ImportedActivation(tensor: t, dims: a.dims, plain: true)
    }

    /// `a` held NHWC: itself when it is; a plain `[N, C]` as it is (the same bytes); a plain
    /// `[N, C, H, W]` through a strided copy, one per tensor whatever the number of its NHWC
    /// readers; other ranks are an error naming the op.
    func nhwc(_ a: ImportedActivation, _ op: NodeContext) throws -> ImportedActivation {
        guard a.plain else { return a }
        switch a.dims.count {
        case 2: return ImportedActivation(tensor: a.tensor, dims: a.dims)
        case 4:
            if let copy = nhwcCopies[a.tensor] { return copy }
            let view = StridedView.transpose(shape: a.dims, permutation: [0, 2, 3, 1])
            let t = graph.addTensor(GraphTensor(name: graph.tensors[a.tensor].name + " [NHWC]", shape: nhwcShape(a.dims)))
            producer[t] = graph.addNode(GraphNode(name: op.name, op: .stridedCopy(view), inputs: [a.tensor], outputs: [t]))
            nhwcCopies[a.tensor] = ImportedActivation(tensor: t, dims: a.dims)
            return ImportedActivation(tensor: t, dims: a.dims)
        default:
            throw ONNXImportError.unsupportedPattern(
                node: op.name, opType: op.node.opType,
                detail: "a rank-\(a.dims.count) tensor \(a.dims) where [N, C, H, W] or [N, C] is needed")
        }
    }

    /// A constant graph tensor (an activation operand with data), NHWC.
    func addConstantTensor(name: String, shape: TensorShape, data: [Float]) -> Int {
        graph.addTensor(GraphTensor(name: name, shape: shape, data: data))
    }
}

/// The four dimensions that hold a tensor in ONNX's own row-major order (`plain`
/// activations): `[C]` as `1×1×1×C`, `[N, C]` as `N×1×1×C`, `[N, L, C]` as `N×1×L×C`,
/// rank 4 as it is, ranks 5–6 with the leading dimensions folded into N. The last ONNX
/// axis is always the channels (softmax, channel slices and concats run along it).
func plainShape(_ dims: [Int]) -> TensorShape {
    switch dims.count {
    case 0: return TensorShape(n: 1, h: 1, w: 1, c: 1)
    case 1: return TensorShape(n: 1, h: 1, w: 1, c: dims[0])
    case 2: return TensorShape(n: dims[0], h: 1, w: 1, c: dims[1])
    case 3: return TensorShape(n: dims[0], h: 1, w: dims[1], c: dims[2])
    default:
        let r = dims.count
        return TensorShape(n: dims[..<(r - 3)].reduce(1, *), h: dims[r - 3], w: dims[r - 2], c: dims[r - 1])
    }
}

/// NHWC shape of an ONNX `[N, C, H, W]` or `[N, C]` shape.
func nhwcShape(_ dims: [Int]) -> TensorShape {
    switch dims.count {
    case 4: return TensorShape(n: dims[0], h: dims[2], w: dims[3], c: dims[1])
    case 2: return TensorShape(n: dims[0], h: 1, w: 1, c: dims[1])
    case 1: return TensorShape(n: 1, h: 1, w: 1, c: dims[0])
    default: return TensorShape(n: 1, h: 1, w: 1, c: dims.reduce(1, *))
    }
}

/// One node being imported: its proto, display name, opset, and attribute accessors.
struct NodeContext {
    let node: ONNXNodeProto
    let name: String
    let opset: Int

    var opType: String { node.opType }

    func input(_ i: Int) throws -> String {
        guard i < node.inputs.count, !node.inputs[i].isEmpty else {
            throw ONNXImportError.missingValue(node: name, name: "input #\(i)")
        }
        return node.inputs[i]
    }

    /// The name of optional input `i`, or nil when absent or empty.
    func optionalInput(_ i: Int) -> String? {
        i < node.inputs.count && !node.inputs[i].isEmpty ? node.inputs[i] : nil
    }

    func output(_ i: Int) throws -> String {
        guard i < node.outputs.count, !node.outputs[i].isEmpty else {
            throw ONNXImportError.missingValue(node: name, name: "output #\(i)")
        }
        return node.outputs[i]
    }

    func int(_ key: String, _ defaultValue: Int) -> Int {
        node.attribute(key).map { Int($0.i) } ?? defaultValue
    }

    func float(_ key: String, _ defaultValue: Float) -> Float {
        node.attribute(key).map { $0.f } ?? defaultValue
    }

    func ints(_ key: String) -> [Int]? {
        node.attribute(key).map { $0.ints.map { Int($0) } }
    }

    func string(_ key: String, _ defaultValue: String) -> String {
        node.attribute(key).map { $0.string } ?? defaultValue
    }

    func unsupported(_ detail: String) -> ONNXImportError {
        .unsupportedAttribute(node: name, opType: opType, detail: detail)
    }

    func pattern(_ detail: String) -> ONNXImportError {
        .unsupportedPattern(node: name, opType: opType, detail: detail)
    }

    func mismatch(_ detail: String) -> ONNXImportError {
        .shapeMismatch(node: name, detail: detail)
    }

    func invalid(_ detail: String) -> ONNXImportError {
        .invalidAttribute(node: name, opType: opType, detail: detail)
    }

    /// Throws `limitExceeded` for a graph whose float work per sample is above
    /// `ONNXLimits.maxMACsPerSample` (`node`: the heaviest).
    static func checkWork(node: String, _ total: Int) throws {
        guard total <= ONNXLimits.maxMACsPerSample else {
            throw ONNXImportError.limitExceeded(
                node: node, what: "the float work of one calibration pass (multiply-accumulates per sample, whole graph; this node the most)",
                value: total, limit: ONNXLimits.maxMACsPerSample)
        }
    }

    /// Throws `limitExceeded` unless `value <= limit`.
    func check(_ what: String, _ value: Int, limit: Int) throws {
        guard value <= limit else { throw ONNXImportError.limitExceeded(node: name, what: what, value: value, limit: limit) }
    }

    /// `axis` (negative counts from the end) as an index into `0..<rank + extra`, or an
    /// `invalidAttribute` error naming it.
    func axis(_ value: Int, rank: Int, extra: Int = 0, _ what: String = "axis") throws -> Int {
        let r = rank + extra
        guard value >= -r, value < r else { throw invalid("\(what) \(value) for rank \(rank)") }
        return value < 0 ? value + r : value
    }
}
