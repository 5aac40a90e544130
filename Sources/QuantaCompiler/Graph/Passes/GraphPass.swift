import QuantaKernels

/// A rewrite of the float graph that keeps its outputs (up to float rounding).
public protocol GraphPass {
    var name: String { get }
    /// Rewrites `graph` in place; returns whether anything changed. Leaves removed
    /// tensors in place (unreferenced); `Graph.removeUnusedTensors()` compacts.
    func run(on graph: inout Graph) throws -> Bool
}

/// The passes `quanta quantize` runs after import, in order, repeated until none
/// changes the graph (at most `maxRounds` times), then unused tensors are removed.
public struct GraphPassPipeline {
    public var passes: [any GraphPass]
    public var maxRounds: Int

    public init(passes: [any GraphPass], maxRounds: Int = 8) {
        self.passes = passes
        self.maxRounds = maxRounds
    }

    /// RemoveIdentities, MergeDataMovements, FoldConstants, FuseDecomposedActivation,
    /// ConstantElementwiseToAffine, FoldPadIntoConv, FoldBatchNorm, FuseActivation, FlushDeadChannels.
    public static let standard = GraphPassPipeline(passes: [
        RemoveIdentitiesPass(), MergeDataMovementsPass(), FoldConstantsPass(), FuseDecomposedActivationPass(), ConstantElementwiseToAffinePass(),
        FoldPadIntoConvPass(), FoldBatchNormPass(), FuseActivationPass(), FlushDeadChannelsPass(),
    ])

    public func run(on graph: inout Graph) throws {
        for _ in 0..<maxRounds {
            var changed = false
            for pass in passes { if try pass.run(on: &graph) { changed = true } }
            if !changed { break }
        }
        graph.removeUnusedTensors()
        try graph.validate()
    }
}

extension Graph {
    /// Replaces every read of tensor `old` (node inputs and graph outputs) with `new`.
    mutating func replaceUses(of old: Int, with new: Int) {
        for n in nodes.indices {
            nodes[n].inputs = nodes[n].inputs.map { $0 == old ? new : $0 }
        }
        outputs = outputs.map { $0 == old ? new : $0 }
    }

    /// Whether tensor `t` may be renamed away or removed: it is read by exactly one node
    /// and is not a graph input or output.
    func hasSingleInternalConsumer(_ t: Int, counts: [Int]) -> Bool {
        counts[t] == 1 && !outputs.contains(t) && !inputs.contains(t)
    }

    /// Removes tensors that no node, input or output references, renumbering the rest
    /// (order kept).
    public mutating func removeUnusedTensors() {
        var used = [Bool](repeating: false, count: tensors.count)
        for i in inputs + outputs { used[i] = true }
        for node in nodes { for i in node.inputs + node.outputs { used[i] = true } }
        var remap = [Int](repeating: -1, count: tensors.count)
        var kept: [GraphTensor] = []
        for (i, t) in tensors.enumerated() where used[i] {
            remap[i] = kept.count
            kept.append(t)
        }
        tensors = kept
        inputs = inputs.map { remap[$0] }
        outputs = outputs.map { remap[$0] }
        for n in nodes.indices {
            nodes[n].inputs = nodes[n].inputs.map { remap[$0] }
            nodes[n].outputs = nodes[n].outputs.map { remap[$0] }
        }
    }

    /// The clamp an op carries, if it carries one.
    func clamp(of op: GraphOp) -> FloatClamp? {
        switch op {
        case .conv2D(let c): return c.clamp
        case .transposeConv2D(let t): return t.clamp
        case .fullyConnected(let f): return f.clamp
        case .add(let c), .mul(let c): return c
        default: return nil
        }
    }

    /// `op` with its clamp replaced (for ops that carry one).
    func op(_ op: GraphOp, withClamp clamp: FloatClamp) -> GraphOp {
        switch op {
        case .conv2D(var c):
            c.clamp = clamp
            return .conv2D(c)
        case .transposeConv2D(var t):
            t.clamp = clamp
            return .transposeConv2D(t)
        case .fullyConnected(var f):
            f.clamp = clamp
            return .fullyConnected(f)
        case .add: return .add(clamp)
        case .mul: return .mul(clamp)
        default: return op
        }
    }
}
