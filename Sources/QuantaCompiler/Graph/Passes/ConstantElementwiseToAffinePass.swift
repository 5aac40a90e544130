import QuantaKernels

/// Rewrites an add or mul of an activation and a constant that is a scalar or per channel
/// (`1×1×1×1` or `n×1×1×c` with the same `c` values for every batch item) as a per-channel
/// affine op — a 1×1 depthwise convolution with weight `k` and bias 0 (mul) or weight 1 and
/// bias `c` (add), keeping its clamp — which `FoldBatchNormPass` then folds into the
/// preceding convolution or fully connected layer when nothing else reads its output.
/// Where it cannot fold it stays a depthwise convolution (per-channel int8 weights and an
/// int32 bias, instead of an int8 constant operand).
///
/// Exact in float: `x * k + 0 == x * k` and `x * 1 + c == x + c`.
/// (Sub and Div by a constant reach here as Add of `-c` and Mul by `1/c`, see the importer.)
public struct ConstantElementwiseToAffinePass: GraphPass {
    public init() {}
    public var name: String { "ConstantElementwiseToAffine" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        for n in graph.nodes.indices {
            let node = graph.nodes[n]
            let isAdd: Bool
            let clamp: FloatClamp
            switch node.op {
            case .add(let c): isAdd = true; clamp = c
            case .mul(let c): isAdd = false; clamp = c
            default: continue
            }
            guard node.inputs.count == 2, node.outputs.count == 1 else { continue }
            let (x, k) = graph.tensors[node.inputs[0]].data == nil ? (node.inputs[0], node.inputs[1]) : (node.inputs[1], node.inputs[0])
            guard graph.tensors[x].data == nil, let data = graph.tensors[k].data,
                let values = Self.perChannel(data, shape: graph.tensors[k].shape, channels: graph.tensors[x].shape.c)
            else { continue }
            let c = graph.tensors[x].shape.c
            let weights = isAdd ? [Float](repeating: 1, count: c) : values
            let bias = isAdd ? values : [Float](repeating: 0, count: c)
            let filter = FilterShape(outputChannels: c, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1)
            let conv = ConvolutionOp(parameters: Conv2DParameters(groups: c), filter: filter, weights: weights, bias: bias, clamp: clamp)
            graph.nodes[n] = GraphNode(name: node.name, op: .conv2D(conv), inputs: [x], outputs: node.outputs)
            changed = true
        }
        return changed
    }

    /// The `channels` values of a scalar or per-channel constant, or nil.
    static func perChannel(_ data: [Float], shape: TensorShape, channels: Int) -> [Float]? {
        guard shape.h == 1, shape.w == 1 else { return nil }
        if shape.c == 1, data.allSatisfy({ $0 == data[0] }) { return [Float](repeating: data[0], count: channels) }
        guard shape.c == channels else { return nil }
        let first = Array(data[0..<channels])
        for b in 1..<max(shape.n, 1) where Array(data[(b * channels)..<((b + 1) * channels)]) != first { return nil }
        return first
    }
}
