import QuantaKernels

/// Evaluates nodes whose inputs are all constants (`GraphTensor.data`) with the float
/// reference kernels and stores the result as constant data of the output tensor. Nodes
/// writing a graph output are kept.
public struct FoldConstantsPass: GraphPass {
    public init() {}
    public var name: String { "FoldConstants" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        var n = 0
        while n < graph.nodes.count {
            let node = graph.nodes[n]
            let foldable = !node.inputs.isEmpty && node.inputs.allSatisfy { graph.tensors[$0].data != nil }
                && !node.outputs.contains { graph.outputs.contains($0) }
            guard foldable else { n += 1; continue }
            // A one-node graph over copies of the operands.
            var sub = Graph()
            let inputs = node.inputs.map { sub.addTensor(graph.tensors[$0]) }
            let outputs = node.outputs.map { sub.addTensor(graph.tensors[$0]) }
            sub.addNode(GraphNode(name: node.name, op: node.op, inputs: inputs, outputs: outputs))
            let values = try FloatExecutor(graph: sub).run(inputs: [])
            for (k, o) in node.outputs.enumerated() { graph.tensors[o].data = values[outputs[k]] }
            graph.nodes.remove(at: n)
            changed = true
        }
        return changed
    }
}
