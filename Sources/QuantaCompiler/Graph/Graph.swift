import Foundation
import QuantaKernels

/// The float graph that import produces, the passes rewrite, calibration runs and
/// quantization consumes.
///
/// Invariants (checked by `Graph.validate()`):
/// - every activation tensor is NHWC (`TensorShape`); vectors are `n × 1 × 1 × c`;
/// - weights and other per-op constants live inside the op (`GraphOp` payloads), so
///   `tensors` holds activations plus, rarely, constant activation operands (`data != nil`,
///   e.g. a per-channel constant added to an activation);
/// - nodes are in a valid execution order: every input of node *i* is a graph input,
///   a constant, or an output of a node before *i*.
public struct Graph {
    public var tensors: [GraphTensor]
    public var nodes: [GraphNode]
    /// Indices into `tensors` of the graph inputs, in the model's order.
    public var inputs: [Int]
    /// Indices into `tensors` of the graph outputs, in the model's order.
    public var outputs: [Int]

    public init(tensors: [GraphTensor] = [], nodes: [GraphNode] = [], inputs: [Int] = [], outputs: [Int] = []) {
        self.tensors = tensors
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Appends a tensor and returns its index.
    @discardableResult
    public mutating func addTensor(_ tensor: GraphTensor) -> Int {
        tensors.append(tensor)
        return tensors.count - 1
    }

    /// Appends a node and returns its index.
    @discardableResult
    public mutating func addNode(_ node: GraphNode) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    /// Number of nodes reading each tensor (graph outputs count as one extra reader).
    public func consumerCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: tensors.count)
        for node in nodes { for i in node.inputs { counts[i] += 1 } }
        for o in outputs { counts[o] += 1 }
        return counts
    }

    /// Index of the node producing each tensor, or nil for inputs and constants.
    public func producers() -> [Int?] {
        var result = [Int?](repeating: nil, count: tensors.count)
        for (n, node) in nodes.enumerated() { for o in node.outputs { result[o] = n } }
        return result
    }
}

/// How a graph input or output was laid out in the source model, so that `quanta run`
/// and `quanta eval` can accept and produce the user's layout (NCHW for ONNX).
public enum SourceLayout: Equatable, Sendable {
    /// The source tensor was `[N, C, H, W]`; Quanta holds it as NHWC.
    case nchw
    /// The source tensor was `[N, C]` (or `[N, C, 1, 1]` flattened); Quanta holds it as `N × 1 × 1 × C`.
    case nc
    /// The source tensor was already NHWC.
    case nhwc
}

/// One tensor of the float graph.
public struct GraphTensor {
    public var name: String
    public var shape: TensorShape
    /// Constant value in NHWC order, for constant activation operands; nil for activations.
    public var data: [Float]?
    /// Layout in the source model, for graph inputs and outputs.
    public var sourceLayout: SourceLayout

    public init(name: String, shape: TensorShape, data: [Float]? = nil, sourceLayout: SourceLayout = .nhwc) {
        self.name = name
        self.shape = shape
        self.data = data
        self.sourceLayout = sourceLayout
    }
}

/// One op of the float graph. `inputs` and `outputs` index `Graph.tensors`.
public struct GraphNode {
    public var name: String
    public var op: GraphOp
    public var inputs: [Int]
    public var outputs: [Int]

    public init(name: String, op: GraphOp, inputs: [Int], outputs: [Int]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A convolution with its constants. Weights are OHWI (`filter`), bias has
/// `filter.outputChannels` entries (zeros when the source had none).
public struct ConvolutionOp {
    public var parameters: Conv2DParameters
    public var filter: FilterShape
    public var weights: [Float]
    public var bias: [Float]
    public var clamp: FloatClamp

    public init(parameters: Conv2DParameters, filter: FilterShape, weights: [Float], bias: [Float], clamp: FloatClamp = .none) {
        self.parameters = parameters
        self.filter = filter
        self.weights = weights
        self.bias = bias
        self.clamp = clamp
    }
}

/// A transposed convolution (groups == 1). Weights are stored OHWI with O the output
/// channels (converted from ONNX's `[C_in, C_out, kH, kW]` at import).
public struct TransposeConvolutionOp {
    public var strideH: Int
    public var strideW: Int
    public var dilationH: Int
    public var dilationW: Int
    public var padding: Padding
    public var outputPaddingH: Int
    public var outputPaddingW: Int
    public var filter: FilterShape
    public var weights: [Float]
    public var bias: [Float]
    public var clamp: FloatClamp

    public init(
        strideH: Int, strideW: Int, dilationH: Int = 1, dilationW: Int = 1, padding: Padding,
        outputPaddingH: Int = 0, outputPaddingW: Int = 0, filter: FilterShape, weights: [Float], bias: [Float],
        clamp: FloatClamp = .none
    ) {
        self.strideH = strideH
        self.strideW = strideW
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.padding = padding
        self.outputPaddingH = outputPaddingH
        self.outputPaddingW = outputPaddingW
        self.filter = filter
        self.weights = weights
        self.bias = bias
        self.clamp = clamp
    }
}

/// A fully connected layer: `out[o] = bias[o] + sum_i weights[o * inputCount + i] * in[i]`,
/// over the flattened `h*w*c` of each batch item (in NHWC order).
public struct FullyConnectedOp {
    public var outputCount: Int
    public var inputCount: Int
    public var weights: [Float]
    public var bias: [Float]
    public var clamp: FloatClamp

    public init(outputCount: Int, inputCount: Int, weights: [Float], bias: [Float], clamp: FloatClamp = .none) {
        self.outputCount = outputCount
        self.inputCount = inputCount
        self.weights = weights
        self.bias = bias
        self.clamp = clamp
    }
}

/// The ops of the float graph, each with its constants. Shapes of inputs and outputs are
/// in `Graph.tensors`.
public enum GraphOp {
    case conv2D(ConvolutionOp)
    case transposeConv2D(TransposeConvolutionOp)
    case fullyConnected(FullyConnectedOp)
    /// `a + b`; `b` may be `n × 1 × 1 × c` (or `1×1×1×1`) and is broadcast over H and W.
    case add(FloatClamp)
    /// `a * b`; `b` may be `n × 1 × 1 × c` (or `1×1×1×1`) and is broadcast (squeeze-excite).
    case mul(FloatClamp)
    case averagePool(PoolParameters, FloatClamp)
    case maxPool(PoolParameters, FloatClamp)
    /// Mean over H and W: output `n × 1 × 1 × c`.
    case globalAveragePool
    /// ShuffleNet's channel shuffle: channel `g * (c/groups) + i` moves to `i * groups + g`.
    case channelShuffle(groups: Int)
    /// Concatenation along channels of all inputs.
    case concat
    /// Channels `start ..< start + count` of the input (ShuffleNet V2's channel split).
    case sliceChannels(start: Int, count: Int)
    /// Constant padding of H and W with `value`.
    case pad(Padding, value: Float)
    /// Softmax over channels.
    case softmax
    /// Log-softmax over channels.
    case logSoftmax
    /// A dense copy of a strided view of the input (transpose, strided slice).
    case stridedCopy(StridedView)
    case activation(UnaryActivation)
    /// Same data, new shape (flatten to `n × 1 × 1 × (h*w*c)` and the like).
    case reshape
    /// Padding of H and W from the input's border (`Layout.borderPad`: reflect or edge).
    case borderPad(Padding, mode: BorderPadMode)
    /// Nearest upsampling by integer factors (`Layout.upsampleNearest`).
    case upsampleNearest(factorH: Int, factorW: Int)
    /// Bilinear resize of H and W to the output tensor's shape (`FloatReference.resizeBilinear`).
    case resizeBilinear(ResizeBilinearParameters)
}
