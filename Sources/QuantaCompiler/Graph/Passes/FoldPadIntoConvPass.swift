import QuantaKernels

/// Folds a zero `.pad` into the padding of the convolution that alone reads it
/// (`conv(pad(x, p)) == conv'(x)` with `conv'.padding = conv.padding + p`, exactly:
/// the convolution's own padding is zeros too).
public struct FoldPadIntoConvPass: GraphPass {
    public init() {}
    public var name: String { "FoldPadIntoConv" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            guard case .conv2D(var conv) = graph.nodes[n].op,
                let p = graph.producers()[graph.nodes[n].inputs[0]],
                case .pad(let padding, let value) = graph.nodes[p].op, value == 0,
                graph.hasSingleInternalConsumer(graph.nodes[n].inputs[0], counts: graph.consumerCounts())
            else { n += 1; continue }
            conv.parameters.padding.top += padding.top
            conv.parameters.padding.left += padding.left
            conv.parameters.padding.bottom += padding.bottom
            conv.parameters.padding.right += padding.right
            graph.nodes[n].op = .conv2D(conv)
            graph.nodes[n].inputs[0] = graph.nodes[p].inputs[0]
            graph.nodes.remove(at: p)
            changed = true
            // The pad came earlier, so the conv moved to n - 1; continue from there.
        }
        return changed
    }
}
