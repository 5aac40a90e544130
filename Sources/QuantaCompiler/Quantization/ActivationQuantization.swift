import QuantaKernels

/// Per-tensor int8 quantization of every tensor of a float graph, from calibration ranges.
public enum ActivationQuantization {
    /// The quantization parameters of each tensor of `graph` (same indices):
    ///
    /// - tensors that must share one quantization are grouped: the input and output of
    ///   `maxPool`, `averagePool`, `reshape`, `channelShuffle`, `sliceChannels` and `pad`,
    ///   and all inputs and the output of `concat` (transitively);
    /// - a group's range is the union of its members' ranges (constants contribute the
    ///   range of their data, `pad` its value) and its parameters are
    ///   `Quantizer.chooseParameters` of that range (widened to contain 0);
    /// - a group holding a softmax output gets softmax's fixed scale 1/256, zero point -128.
    ///
    /// `ranges[i]` is the calibrated range of tensor `i` (nil for constants and tensors
    /// never computed). A tensor that some node or the graph reads and whose group has no
    /// range is `QuantizationError.missingRange`; tensors nobody reads get scale 1, zero point 0.
    public static func parameters(graph: Graph, ranges: [ClosedRange<Float>?]) throws -> [QuantizationParameters] {
        let count = graph.tensors.count
        guard ranges.count == count else { throw QuantizationError.rangeCount(expected: count, actual: ranges.count) }
        var groups = SharingGroups(count: count)
        var padValues: [(tensor: Int, value: Float)] = []
        var fixed = [Bool](repeating: false, count: count)
        for node in graph.nodes {
            switch node.op {
            case .maxPool, .averagePool, .reshape, .channelShuffle, .sliceChannels, .borderPad, .upsampleNearest, .resizeBilinear, .stridedCopy:
                if let i = node.inputs.first, let o = node.outputs.first { groups.union(i, o) }
            case .pad(_, let value):
                if let i = node.inputs.first, let o = node.outputs.first {
                    groups.union(i, o)
                    padValues.append((o, value))
                }
            case .concat:
                for t in node.inputs + node.outputs { groups.union(t, node.outputs.first ?? t) }
            case .softmax:
                for o in node.outputs { fixed[o] = true }
            default:
                break
            }
        }
        var groupRange = [ClosedRange<Float>?](repeating: nil, count: count)
        var groupFixed = [Bool](repeating: false, count: count)
        func include(_ root: Int, _ r: ClosedRange<Float>) {
            if let old = groupRange[root] {
                groupRange[root] = min(old.lowerBound, r.lowerBound)...max(old.upperBound, r.upperBound)
            } else {
                groupRange[root] = r
            }
        }
        for i in 0..<count {
            let root = groups.find(i)
            if fixed[i] { groupFixed[root] = true }
            if let data = graph.tensors[i].data, let lo = data.min(), let hi = data.max(), lo.isFinite, hi.isFinite {
                include(root, lo...hi)
            } else if let r = ranges[i] {
                include(root, r)
            }
        }
        for (t, value) in padValues where value.isFinite { include(groups.find(t), value...value) }

        var read = [Bool](repeating: false, count: count)
        for node in graph.nodes { for i in node.inputs { read[i] = true } }
        for i in graph.inputs + graph.outputs { read[i] = true }

        var result: [QuantizationParameters] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let root = groups.find(i)
            if groupFixed[root] {
                result.append(ElementwiseQuantization.softmaxOutput)
            } else if let r = groupRange[root] {
                result.append(Quantizer.chooseParameters(min: r.lowerBound, max: r.upperBound))
            } else if read[i] {
                throw QuantizationError.missingRange(tensor: graph.tensors[i].name)
            } else {
                result.append(QuantizationParameters(scale: 1, zeroPoint: 0))
            }
        }
        return result
    }
}

/// Union-find over tensor indices; the representative of a group is its smallest index,
/// so the grouping does not depend on the order of the unions.
struct SharingGroups {
    private var parent: [Int]

    init(count: Int) { parent = Array(0..<count) }

    mutating func find(_ i: Int) -> Int {
        var root = i
        while parent[root] != root { root = parent[root] }
        var j = i
        while parent[j] != root {
            let next = parent[j]
            parent[j] = root
            j = next
        }
        return root
    }

    mutating func union(_ a: Int, _ b: Int) {
        let ra = find(a), rb = find(b)
        if ra < rb { parent[rb] = ra } else if rb < ra { parent[ra] = rb }
    }
}
