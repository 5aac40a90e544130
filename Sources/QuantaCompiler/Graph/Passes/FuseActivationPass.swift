import QuantaKernels

/// Fuses a clamp activation — Relu, Relu6 (Clip(0, 6)), or Clip(min, max) — into the
/// convolution, transposed convolution, fully connected, add or mul that alone produces
/// its input: `clamp2(clamp1(x)) == clamp(x, max(lo1, lo2), min(hi1, hi2))` when the two
/// ranges overlap (otherwise the node is left alone). Exact in float.
public struct FuseActivationPass: GraphPass {
    public init() {}
    public var name: String { "FuseActivation" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            guard case .activation(let kind) = graph.nodes[n].op, let c2 = kind.asClamp,
                let p = graph.producers()[graph.nodes[n].inputs[0]],
                let c1 = graph.clamp(of: graph.nodes[p].op),
                graph.hasSingleInternalConsumer(graph.nodes[n].inputs[0], counts: graph.consumerCounts())
            else { n += 1; continue }
            let merged = FloatClamp(min: max(c1.min, c2.min), max: min(c1.max, c2.max))
            guard merged.min <= merged.max else { n += 1; continue }
            graph.nodes[p].op = graph.op(graph.nodes[p].op, withClamp: merged)
            graph.nodes[p].outputs = graph.nodes[n].outputs
            graph.nodes.remove(at: n)
            changed = true
        }
        return changed
    }
}
