import QuantaKernels

/// Merges a strided copy, the reshapes after it and the strided copy after those (each
/// tensor between them read once and not a graph output) into one node on the first
/// copy's input: a strided copy when the composed element mapping is itself a strided view,
/// a reshape when it is the identity — a transpose and its inverse, the importer's NHWC →
/// ONNX-order copy and the copy back, a Transpose right after a layout copy (PicoDet's
/// `[N,C,H,W] → [N,H,W,C]` heads move no byte at all). The copies of a chain that is not
/// a view stay as they are. Mappings are composed and checked element by element, for
/// tensors of at most `maxElements`.
public struct MergeDataMovementsPass: GraphPass {
    public static let maxElements = 1 << 20

    public init() {}
    public var name: String { "MergeDataMovements" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        for n in graph.nodes.indices {
            guard case .stridedCopy(let second) = graph.nodes[n].op else { continue }
            let counts = graph.consumerCounts(), producers = graph.producers()
            var t = graph.nodes[n].inputs[0]
            var first: StridedView?
            var source = -1
            walk: while graph.hasSingleInternalConsumer(t, counts: counts), let p = producers[t] {
                switch graph.nodes[p].op {
                case .reshape:
                    t = graph.nodes[p].inputs[0]
                case .stridedCopy(let view):
                    (first, source) = (view, graph.nodes[p].inputs[0])
                    break walk
                default:
                    break walk
                }
            }
            guard let first, let merged = Self.compose(first, then: second) else { continue }
            let count = graph.tensors[source].shape.elementCount
            graph.nodes[n].inputs[0] = source
            graph.nodes[n].op = merged.isIdentity(inputCount: count) ? .reshape : .stridedCopy(merged)
            changed = true  // the first copy and the reshapes are dead now (RemoveIdentities drops them)
        }
        return changed
    }

    /// The view that reads, for each element of `second` applied to the output of `first`,
    /// the element of `first`'s input it comes from; nil when that mapping is not a strided
    /// view (or the tensors exceed `maxElements`).
    static func compose(_ first: StridedView, then second: StridedView) -> StridedView? {
        guard first.elementCount <= maxElements, second.elementCount <= maxElements else { return nil }
        let inner = offsets(first), outer = offsets(second)
        guard outer.allSatisfy({ $0 >= 0 && $0 < inner.count }) else { return nil }
        let mapped = outer.map { inner[$0] }
        // Candidate: the base and, per axis, the step of one index along it.
        let dims = second.dims
        var strides = [Int](repeating: 0, count: dims.count)
        var unit = 1
        for a in dims.indices.reversed() {
            if dims[a] > 1 { strides[a] = mapped[unit] - mapped[0] }
            unit *= dims[a]
        }
        let candidate = StridedView(dims: dims, strides: strides, base: mapped.first ?? 0)
        guard offsets(candidate) == mapped, candidate.geometry != nil else { return nil }
        return candidate
    }

    /// The input offset of every element of `view`, in row-major order of its dims.
    static func offsets(_ view: StridedView) -> [Int] {
        let count = view.elementCount
        var result = [Int](repeating: view.base, count: count)
        var index = [Int](repeating: 0, count: view.dims.count)
        var offset = view.base
        for k in 0..<count {
            result[k] = offset
            var a = view.dims.count - 1
            while a >= 0 {
                index[a] += 1
                offset += view.strides[a]
                if index[a] < view.dims[a] { break }
                offset -= view.strides[a] * view.dims[a]
                index[a] = 0
                a -= 1
            }
        }
        return result
    }
}
