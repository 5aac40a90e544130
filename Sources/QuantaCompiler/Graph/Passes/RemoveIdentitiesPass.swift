import QuantaKernels

/// Removes nodes that copy their input unchanged: a reshape to the same shape, a
/// reshape of a reshape (merged), a zero pad, a full channel slice, a one-input concat,
/// a channel shuffle with 1 or C groups, an unbounded clip. The graph output keeps its
/// name: when the removed node wrote a graph output, the surviving tensor takes its
/// name and layout (unless it is a graph input, in which case the node stays).
/// Finally removes dead nodes: nodes none of whose outputs is read or is a graph output.
public struct RemoveIdentitiesPass: GraphPass {
    public init() {}
    public var name: String { "RemoveIdentities" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            let node = graph.nodes[n]
            guard node.inputs.count >= 1, node.outputs.count == 1 else { n += 1; continue }
            let input = node.inputs[0], output = node.outputs[0]
            let inShape = graph.tensors[input].shape, outShape = graph.tensors[output].shape
            var isIdentity = false
            switch node.op {
            case .reshape:
                isIdentity = inShape == outShape
                // reshape(reshape(x)) → reshape(x) when the inner one has no other reader.
                if !isIdentity, let p = graph.producers()[input], case .reshape = graph.nodes[p].op,
                    graph.hasSingleInternalConsumer(input, counts: graph.consumerCounts())
                {
                    graph.nodes[n].inputs[0] = graph.nodes[p].inputs[0]
                    changed = true
                    continue
                }
            case .pad(let p, _): isIdentity = p == .zero
            case .sliceChannels(let start, let count): isIdentity = start == 0 && count == inShape.c
            case .concat: isIdentity = node.inputs.count == 1
            case .channelShuffle(let groups): isIdentity = groups == 1 || groups == inShape.c
            case .activation(.clip(let lo, let hi)): isIdentity = lo == -.infinity && hi == .infinity
            default: break
            }
            guard isIdentity, inShape == outShape else { n += 1; continue }
            if graph.outputs.contains(output) {
                if graph.inputs.contains(input) || graph.outputs.contains(input) { n += 1; continue }
                graph.tensors[input].name = graph.tensors[output].name
                graph.tensors[input].sourceLayout = graph.tensors[output].sourceLayout
            }
            graph.nodes.remove(at: n)
            graph.replaceUses(of: output, with: input)
            changed = true
        }
        // Dead nodes, last to first so that chains of them go in one sweep.
        var counts = graph.consumerCounts()
        for k in stride(from: graph.nodes.count - 1, through: 0, by: -1)
        where graph.nodes[k].outputs.allSatisfy({ counts[$0] == 0 }) {
            for i in graph.nodes[k].inputs { counts[i] -= 1 }
            graph.nodes.remove(at: k)
            changed = true
        }
        return changed
    }
}
