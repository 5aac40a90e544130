import QuantaKernels

/// A structural problem in a float graph.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case tensorIndexOutOfRange(node: String, index: Int)
    case usedBeforeDefined(node: String, tensor: String)
    case shapeMismatch(node: String, detail: String)
    /// A constant operand (weights, bias, elementwise constant) holds NaN or infinity.
    case nonFiniteConstant(node: String, constant: String, count: Int)

    public var description: String {
        switch self {
        case .tensorIndexOutOfRange(let node, let index): return "node '\(node)': tensor index \(index) out of range"
        case .usedBeforeDefined(let node, let tensor): return "node '\(node)': input '\(tensor)' is used before it is computed"
        case .shapeMismatch(let node, let detail): return "node '\(node)': \(detail)"
        case .nonFiniteConstant(let node, let constant, let count):
            return "node '\(node)': \(constant) hold(s) \(count) NaN or infinite value(s)"
        }
    }
}

extension Graph {
    /// Checks index ranges and execution order (see the invariants on `Graph`), and that
    /// every constant a node reads is finite (a NaN weight is named here, not later as NaN
    /// activations during calibration).
    public func validate() throws {
        var defined = [Bool](repeating: false, count: tensors.count)
        var checkedConstant = [Bool](repeating: false, count: tensors.count)
        for i in inputs { defined[i] = true }
        for (i, t) in tensors.enumerated() where t.data != nil { defined[i] = true }
        for node in nodes {
            for i in node.inputs + node.outputs where i < 0 || i >= tensors.count {
                throw GraphError.tensorIndexOutOfRange(node: node.name, index: i)
            }
            for i in node.inputs where !defined[i] {
                throw GraphError.usedBeforeDefined(node: node.name, tensor: tensors[i].name)
            }
            func check(_ values: [Float], _ what: String) throws {
                guard values.contains(where: { !$0.isFinite }) else { return }
                let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
                throw GraphError.nonFiniteConstant(node: node.name, constant: what, count: bad)
            }
            switch node.op {
            case .conv2D(let c): try check(c.weights, "weights"); try check(c.bias, "bias")
            case .transposeConv2D(let c): try check(c.weights, "weights"); try check(c.bias, "bias")
            case .fullyConnected(let f): try check(f.weights, "weights"); try check(f.bias, "bias")
            default: break
            }
            // Each constant once, at its first reader (a 2^24-element constant read by many
            // nodes was scanned by each: a fuzzer timeout).
            for i in node.inputs where !checkedConstant[i] {
                checkedConstant[i] = true
                if let data = tensors[i].data { try check(data, "constant '\(tensors[i].name)'") }
            }
            for o in node.outputs { defined[o] = true }
        }
    }
}
