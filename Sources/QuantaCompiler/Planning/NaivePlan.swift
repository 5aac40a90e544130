import QuantaKernels
import QuantaRuntime

/// The naive lower bound of a model: the largest total of whole tensors alive at one step
/// when every op writes a whole output tensor — what any plan of whole tensors needs, and
/// what `MemoryPasses` goes below.
///
/// Computed from a `.qmodel` alone: each fused inverted-residual block is unfolded into its
/// expand, depthwise, project (and add) steps with whole intermediate tensors, each
/// depthwise-in-place op gets a separate output; lifetimes and the in-place hints of
/// elementwise ops (lookup table, reshape, add's and mul's first input) are those of
/// `ModelWriter.planArena`, so for a model written without scratch buffers the result equals
/// the lower bound of the same model written with `MemoryPassOptions.none`.
public enum NaivePlan {
    struct Step {
        var inputs: [Int]
        var output: Int
        /// The op may write its output over its first input (elementwise).
        var elementwise: Bool
    }

    public static func lowerBound(model: Model) -> Int {
        var sizes: [Int?] = (0..<model.tensorCount).map { t in
            let d = model.tensor(t)
            return d.arenaOffset == nil ? nil : d.byteCount
        }
        var steps: [Step] = []
        for i in 0..<model.opCount {
            let op = model.op(i)
            if let (g, inputFirst) = model.fusedBlock(i) {
                let x = op.inputs[0], y = op.outputs[0]
                let e = sizes.count, d = e + 1
                sizes += [g.expandedShape.elementCount, g.depthwiseShape.elementCount]
                steps.append(Step(inputs: [x], output: e, elementwise: false))
                steps.append(Step(inputs: [e], output: d, elementwise: false))
                if g.hasResidual {
                    let p = sizes.count
                    sizes.append(g.outputShape.elementCount)
                    steps.append(Step(inputs: [d], output: p, elementwise: false))
                    steps.append(Step(inputs: inputFirst ? [x, p] : [p, x], output: y, elementwise: true))
                } else {
                    steps.append(Step(inputs: [d], output: y, elementwise: false))
                }
                continue
            }
            let elementwise: Bool
            switch op.kind {
            case .lookupTable, .reshape: elementwise = true
            case .add, .mul: elementwise = op.inputs.count == 2 && op.inputs[0] != op.inputs[1]
            default: elementwise = false
            }
            steps.append(Step(inputs: op.inputs, output: op.outputs[0], elementwise: elementwise))
        }

        let lastStep = max(0, steps.count - 1)
        var first = [Int?](repeating: nil, count: sizes.count)
        var last = [Int](repeating: -1, count: sizes.count)
        var producer = [Int?](repeating: nil, count: sizes.count)
        for (s, step) in steps.enumerated() {
            if first[step.output] == nil { first[step.output] = s; producer[step.output] = s }
            for t in step.inputs { last[t] = max(last[t], s) }
        }
        let inputs = (0..<model.inputCount).map { model.inputTensor($0) }
        let outputs = Set((0..<model.outputCount).map { model.outputTensor($0) })
        for t in inputs { first[t] = 0 }
        for t in outputs { last[t] = lastStep }

        var requests: [BufferRequest] = []
        var request = [Int?](repeating: nil, count: sizes.count)
        for t in sizes.indices {
            guard let size = sizes[t] else { continue }
            let f = first[t] ?? 0
            let l = max(f, last[t])
            var reuse: Int? = nil
            if let p = producer[t], !inputs.contains(t), steps[p].elementwise, let source = steps[p].inputs.first,
               source != t, !outputs.contains(source), let r = request[source], let sourceSize = sizes[source],
               max(first[source] ?? 0, last[source]) == p, sourceSize == size {
                reuse = r
            }
            request[t] = requests.count
            requests.append(BufferRequest(size: size, firstStep: f, lastStep: l, alignment: 16, mayReuse: reuse))
        }
        return MemoryPlanner.lowerBound(requests)
    }
}
