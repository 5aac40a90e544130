import QuantaKernels

/// `clamp(a * x + b, lo, hi)` of one base tensor `x`: what a chain of scalar adds, scalar
/// multiplies, clamps (Relu, Relu6, Clip, Min/Max with a scalar) and hard-sigmoids of `x`
/// computes. Bounds may be infinite.
struct ScalarAffineClamp: Equatable {
    var a: Float = 1
    var b: Float = 0
    var lo: Float = -.infinity
    var hi: Float = .infinity

    /// Followed by `+ c`.
    mutating func add(_ c: Float) {
        b += c
        lo += c
        hi += c
    }

    /// Followed by `* k`; nil for `k == 0` (the result no longer depends on `x`).
    mutating func mul(_ k: Float) -> Bool {
        guard k != 0, k.isFinite else { return false }
        a *= k
        b *= k
        (lo, hi) = k > 0 ? (lo * k, hi * k) : (hi * k, lo * k)
        if lo.isNaN { lo = -.infinity }
        if hi.isNaN { hi = .infinity }
        return true
    }

    /// Followed by a clamp; false when the ranges do not overlap.
    mutating func clamp(_ c: FloatClamp) -> Bool {
        lo = max(lo, c.min)
        hi = min(hi, c.max)
        return lo <= hi
    }

    var isClampOnly: Bool { a == 1 && b == 0 }
}

/// Recognises activations that exporters write out as arithmetic and replaces each
/// matched chain with one `.activation` node (one lookup table in the int8 model):
///
/// - hard-swish `x * g(x)` where `g` is a hard-sigmoid of the same `x` with slope 1/6 and
///   offset 1/2 — written `x * Clip(x + 3, 0, 6) / 6` (paddle2onnx), `x * Relu6(x + 3) * (1/6)`,
///   `x * (Relu6(x + 3) / 6)`, `x * HardSigmoid(x)` (torch.onnx < opset 14), `Min`/`Max` for
///   `Clip` — possibly followed by scalar multiplies (`/ 6`); → `.hardSwish`;
/// - swish `x * Sigmoid(x)` → `.swish`;
/// - any chain of at least two scalar adds/multiplies/clamps of `x` that computes
///   `clamp(a * x + b, 0, 1)` → `.hardSigmoid(alpha: a, beta: b)` (e.g. `Relu6(x + 3) / 6`,
///   `Clip(x * 0.2 + 0.5, 0, 1)`), or `clamp(x, lo, hi)` → `.clip`/`.relu`/`.relu6`.
///
/// A chain matches only when every intermediate tensor is read by exactly one node and is
/// not a graph output; the base `x` may have any number of readers. The fused node takes
/// the place of the chain's last node and writes its output tensor.
///
/// Float results agree with the unfused graph to float rounding: the fused formulas are
/// the same arithmetic, with constants compared to a relative tolerance of `tolerance`.
public struct FuseDecomposedActivationPass: GraphPass {
    public var tolerance: Float

    public init(tolerance: Float = 1e-5) { self.tolerance = tolerance }
    public var name: String { "FuseDecomposedActivation" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            if let (kind, chain, input) = match(graph, at: n) {
                let last = chain.max()!
                let output = graph.nodes[last].outputs[0]
                graph.nodes[last] = GraphNode(name: graph.nodes[last].name, op: .activation(kind), inputs: [input], outputs: [output])
                for k in chain.sorted(by: >) where k != last { graph.nodes.remove(at: k) }
                changed = true
                n = 0
            } else {
                n += 1
            }
        }
        return changed
    }

    /// The fused activation ending at or starting from node `n`, the nodes it replaces and its input.
    private func match(_ graph: Graph, at n: Int) -> (UnaryActivation, [Int], Int)? {
        let counts = graph.consumerCounts()
        let producers = graph.producers()
        if let gated = matchGated(graph, at: n, counts: counts, producers: producers) { return gated }
        // A chain of scalar steps ending at n.
        guard let chain = Self.chain(graph, from: graph.nodes[n].outputs.first ?? -1, counts: counts, producers: producers),
            chain.nodes.count >= 2
        else { return nil }
        let f = chain.f
        if f.isClampOnly {
            if f.lo == 0 && f.hi == .infinity { return (.relu, chain.nodes, chain.base) }
            if f.lo == 0 && f.hi == 6 { return (.relu6, chain.nodes, chain.base) }
            return (.clip(min: f.lo, max: f.hi), chain.nodes, chain.base)
        }
        if f.lo == 0, close(f.hi, 1) {
            return (.hardSigmoid(alpha: f.a, beta: f.b), chain.nodes, chain.base)
        }
        return nil
    }

    /// `x * gate(x)` at the mul node `n`, followed by any scalar multiplies.
    private func matchGated(_ graph: Graph, at n: Int, counts: [Int], producers: [Int?]) -> (UnaryActivation, [Int], Int)? {
        guard case .mul(let clamp) = graph.nodes[n].op, clamp == .none, graph.nodes[n].inputs.count == 2 else { return nil }
        let (p, q) = (graph.nodes[n].inputs[0], graph.nodes[n].inputs[1])
        guard graph.tensors[p].data == nil, graph.tensors[q].data == nil, p != q else { return nil }
        for (x, g) in [(p, q), (q, p)] where graph.hasSingleInternalConsumer(g, counts: counts) {
            guard let gp = producers[g] else { continue }
            var nodes = [n]
            var scale: Float = 1
            // Scalar multiplies after the gated product (the "/ 6").
            var out = graph.nodes[n].outputs[0]
            while graph.hasSingleInternalConsumer(out, counts: counts),
                let next = graph.nodes.firstIndex(where: { $0.inputs.contains(out) }),
                case .mul(.none) = graph.nodes[next].op,
                let k = Self.scalarOperand(graph, graph.nodes[next], of: out)
            {
                scale *= k
                nodes.append(next)
                out = graph.nodes[next].outputs[0]
            }
            if case .activation(.sigmoid) = graph.nodes[gp].op, graph.nodes[gp].inputs[0] == x, close(scale, 1) {
                return (.swish, nodes + [gp], x)
            }
            guard let chain = Self.chain(graph, from: g, counts: counts, producers: producers), chain.base == x else { continue }
            let f = chain.f
            // x * clamp(a x + b, 0, hi) * scale == x * hardSigmoid(a / hi, b / hi) * (hi * scale).
            guard f.lo == 0, f.hi.isFinite, f.hi > 0, close(f.hi * scale, 1), close(f.a / f.hi, 1.0 / 6), close(f.b / f.hi, 0.5)
            else { continue }
            return (.hardSwish, nodes + chain.nodes, x)
        }
        return nil
    }

    private func close(_ x: Float, _ y: Float) -> Bool {
        x.isFinite && y.isFinite && abs(x - y) <= tolerance * max(abs(x), abs(y))
    }

    /// The scalar constant the node multiplies or adds to `input` with, if its other operand is one.
    static func scalarOperand(_ graph: Graph, _ node: GraphNode, of input: Int) -> Float? {
        guard node.inputs.count == 2, node.inputs[0] == input || node.inputs[1] == input else { return nil }
        let other = node.inputs[0] == input ? node.inputs[1] : node.inputs[0]
        guard other != input, let data = graph.tensors[other].data, let first = data.first,
            data.allSatisfy({ $0 == first })
        else { return nil }
        return first
    }

    /// Walks back from tensor `t` through scalar steps: returns the base tensor, the
    /// function of it `t` is, and the nodes involved (nil when `t`'s producer is not a step).
    static func chain(_ graph: Graph, from t: Int, counts: [Int], producers: [Int?]) -> (base: Int, f: ScalarAffineClamp, nodes: [Int])? {
        guard t >= 0 else { return nil }
        var steps: [(Int, Int)] = []  // (node, input) from last to first
        var current = t
        while let p = producers[current], current == t || graph.hasSingleInternalConsumer(current, counts: counts),
            let input = stepInput(graph, graph.nodes[p])
        {
            steps.append((p, input))
            current = input
        }
        guard !steps.isEmpty else { return nil }
        var f = ScalarAffineClamp()
        for (p, input) in steps.reversed() {
            guard apply(graph, graph.nodes[p], input: input, to: &f) else { return nil }
        }
        return (current, f, steps.map { $0.0 })
    }

    /// The activation input of a node that is a scalar step, or nil.
    private static func stepInput(_ graph: Graph, _ node: GraphNode) -> Int? {
        guard node.outputs.count == 1 else { return nil }
        switch node.op {
        case .add, .mul:
            guard node.inputs.count == 2 else { return nil }
            for (x, c) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])]
            where graph.tensors[x].data == nil && scalarOperand(graph, node, of: x) != nil && graph.tensors[c].data != nil {
                return x
            }
            return nil
        case .activation(let kind):
            switch kind {
            case .relu, .relu6, .clip, .hardSigmoid: return node.inputs[0]
            default: return nil
            }
        case .conv2D(let c):
            // A per-channel affine conv with the same scale and shift on every channel.
            guard let (scale, shift, _) = FoldBatchNormPass.affine(.conv2D(c)),
                scale.allSatisfy({ $0 == scale[0] }), shift.allSatisfy({ $0 == shift[0] })
            else { return nil }
            return node.inputs[0]
        default:
            return nil
        }
    }

    private static func apply(_ graph: Graph, _ node: GraphNode, input: Int, to f: inout ScalarAffineClamp) -> Bool {
        switch node.op {
        case .add(let clamp):
            f.add(scalarOperand(graph, node, of: input)!)
            return f.clamp(clamp)
        case .mul(let clamp):
            return f.mul(scalarOperand(graph, node, of: input)!) && f.clamp(clamp)
        case .activation(.hardSigmoid(let alpha, let beta)):
            guard f.mul(alpha) else { return false }
            f.add(beta)
            return f.clamp(FloatClamp(min: 0, max: 1))
        case .activation(let kind):
            return f.clamp(kind.asClamp!)
        case .conv2D(let c):
            guard f.mul(c.weights[0]) else { return false }
            f.add(c.bias[0])
            return f.clamp(c.clamp)
        default:
            return false
        }
    }
}
