import QuantaKernels

/// Folds a per-channel affine op — a 1×1 depthwise convolution with depth multiplier 1,
/// stride 1 and no padding, which is how a BatchNormalization is imported — into the
/// convolution, transposed convolution or fully connected layer that produces its
/// input, when that producer has no clamp and nothing else reads its output:
///
///     w'[o, ...] = w[o, ...] * s[o],   b'[o] = b[o] * s[o] + t[o],   clamp' = affine's clamp
///
/// Float results agree with the unfolded graph to rounding.
public struct FoldBatchNormPass: GraphPass {
    public init() {}
    public var name: String { "FoldBatchNorm" }

    /// The scale and shift of a per-channel affine conv, or nil.
    static func affine(_ op: GraphOp) -> (scale: [Float], shift: [Float], clamp: FloatClamp)? {
        guard case .conv2D(let c) = op else { return nil }
        let p = c.parameters
        guard c.filter.kernelH == 1, c.filter.kernelW == 1, c.filter.inputChannelsPerGroup == 1,
            p.groups == c.filter.outputChannels, p.strideH == 1, p.strideW == 1, p.padding == .zero
        else { return nil }
        return (c.weights, c.bias, c.clamp)
    }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            guard let (scale, shift, clamp) = Self.affine(graph.nodes[n].op),
                let p = graph.producers()[graph.nodes[n].inputs[0]],
                graph.hasSingleInternalConsumer(graph.nodes[n].inputs[0], counts: graph.consumerCounts()),
                let folded = Self.fold(graph.nodes[p].op, scale: scale, shift: shift, clamp: clamp)
            else { n += 1; continue }
            graph.nodes[p].op = folded
            graph.nodes[p].outputs = graph.nodes[n].outputs
            graph.nodes.remove(at: n)
            changed = true
        }
        return changed
    }

    static func fold(_ op: GraphOp, scale: [Float], shift: [Float], clamp: FloatClamp) -> GraphOp? {
        switch op {
        case .conv2D(var c) where c.clamp == .none && c.filter.outputChannels == scale.count:
            let per = c.weights.count / scale.count  // OHWI: each output channel is contiguous
            for o in 0..<scale.count {
                for k in 0..<per { c.weights[o * per + k] *= scale[o] }
                c.bias[o] = c.bias[o] * scale[o] + shift[o]
            }
            c.clamp = clamp
            return .conv2D(c)
        case .transposeConv2D(var t) where t.clamp == .none && t.filter.outputChannels == scale.count:
            let per = t.weights.count / scale.count
            for o in 0..<scale.count {
                for k in 0..<per { t.weights[o * per + k] *= scale[o] }
                t.bias[o] = t.bias[o] * scale[o] + shift[o]
            }
            t.clamp = clamp
            return .transposeConv2D(t)
        case .fullyConnected(var f) where f.clamp == .none && f.outputCount == scale.count:
            for o in 0..<scale.count {
                for k in 0..<f.inputCount { f.weights[o * f.inputCount + k] *= scale[o] }
                f.bias[o] = f.bias[o] * scale[o] + shift[o]
            }
            f.clamp = clamp
            return .fullyConnected(f)
        default:
            return nil
        }
    }
}
