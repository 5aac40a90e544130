import QuantaKernels

/// A structural problem in a float graph.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case tensorIndexOutOfRange(node: String, index: Int)
    case usedBeforeDefined(node: String, tensor: String)
    case shapeMismatch(node: String, detail: String)

    public var description: String {
        switch self {
        case .tensorIndexOutOfRange(let node, let index): return "node '\(node)': tensor index \(index) out of range"
        case .usedBeforeDefined(let node, let tensor): return "node '\(node)': input '\(tensor)' is used before it is computed"
        case .shapeMismatch(let node, let detail): return "node '\(node)': \(detail)"
        }
    }
}

extension Graph {
    /// Checks index ranges and execution order (see the invariants on `Graph`).
    public func validate() throws {
        var defined = [Bool](repeating: false, count: tensors.count)
        for i in inputs { defined[i] = true }
        for (i, t) in tensors.enumerated() where t.data != nil { defined[i] = true }
        for node in nodes {
            for i in node.inputs + node.outputs where i < 0 || i >= tensors.count {
                throw GraphError.tensorIndexOutOfRange(node: node.name, index: i)
            }
            for i in node.inputs where !defined[i] {
                throw GraphError.usedBeforeDefined(node: node.name, tensor: tensors[i].name)
            }
            for o in node.outputs { defined[o] = true }
        }
    }
}
