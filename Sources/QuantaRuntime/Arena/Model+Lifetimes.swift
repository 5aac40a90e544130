import QuantaKernels

/// Validation of the arena plan beyond bounds: buffers that are alive at the same step
/// must not share bytes, except where an op works in place.
extension Model {
    /// First and last step (op index) at which tensor `t` is alive: from its producer (step 0
    /// for model inputs and tensors no op writes) to its last reader (the last op for model
    /// outputs). One pass over the ops (for reports; validation computes all at once).
    public func lifetime(_ t: Int) -> (first: Int, last: Int) {
        precondition(t >= 0 && t < tensorCount, "tensor index out of range")
        var first = -1, last = -1
        for i in 0..<opCount {
            let op = opRecord(i)
            if first < 0 && op.output(0) == t { first = i }
            for k in 0..<op.inputCount where op.input(k) == t { last = i }
        }
        for k in 0..<outputCount where outputTensor(k) == t { last = max(0, opCount - 1) }
        for k in 0..<inputCount where inputTensor(k) == t { first = 0 }
        if first < 0 { first = 0 }
        if last < first { last = first }
        return (first, last)
    }

    /// First and last step (op index) of every tensor, written to `first` and `last`: from
    /// its producer (step 0 for model inputs and tensors no op writes) to its last reader
    /// (the last op for model outputs). One pass over the ops.
    func lifetimes(first: UnsafeMutableBufferPointer<Int32>, last: UnsafeMutableBufferPointer<Int32>) {
        for t in 0..<tensorCount {
            first[t] = -1
            last[t] = -1
        }
        for i in 0..<opCount {
            let op = opRecord(i)
            let out = op.output(0)
            if first[out] < 0 { first[out] = Int32(i) }
            for k in 0..<op.inputCount { last[op.input(k)] = Int32(i) }
        }
        for k in 0..<outputCount { last[outputTensor(k)] = Int32(max(0, opCount - 1)) }
        for k in 0..<inputCount { first[inputTensor(k)] = 0 }
        for t in 0..<tensorCount {
            if first[t] < 0 { first[t] = 0 }
            if last[t] < first[t] { last[t] = first[t] }
        }
    }

    /// The first pair of arena tensors that are alive at the same step and share bytes
    /// without an in-place op between them, as an error.
    func overlap(first: UnsafeMutableBufferPointer<Int32>, last: UnsafeMutableBufferPointer<Int32>) -> ModelError? {
        for a in 0..<tensorCount where isArenaTensor(a) {
            let startA = arenaOffset(a), endA = startA + shape(a).elementCount
            let firstA = Int(first[a]), lastA = Int(last[a])
            for b in (a + 1)..<tensorCount where isArenaTensor(b) {
                let firstB = Int(first[b]), lastB = Int(last[b])
                guard firstA <= lastB, firstB <= lastA else { continue }
                let startB = arenaOffset(b), endB = startB + shape(b).elementCount
                guard startA < endB, startB < endA else { continue }
                // Touching lifetimes are allowed only for an in-place op at that step.
                if lastA == firstB && mayWorkInPlace(step: lastA, input: a, output: b) { continue }
                if lastB == firstA && mayWorkInPlace(step: lastB, input: b, output: a) { continue }
                return .overlappingBuffers(first: a, second: b, step: max(firstA, firstB))
            }
        }
        return nil
    }

    /// Whether op `step` may write `output` over `input` (same arena offset): lookup tables,
    /// reshapes, an add's or mul's first input, depthwise-in-place ops, and fused inverted-residual
    /// blocks whose rows allow it (`InvertedResidualGeometry.canRunInPlace`), when the input
    /// dies at that op.
    func mayWorkInPlace(step: Int, input: Int, output: Int) -> Bool {
        guard step >= 0, step < opCount else { return false }
        let op = opRecord(step)
        guard op.output(0) == output, op.input(0) == input, arenaOffset(input) == arenaOffset(output) else {
            return false
        }
        switch OpKind(rawValue: op.kindByte) {
        case .lookupTable, .reshape: return true
        case .add, .mul: return op.input(1) != input
        case .depthwiseConv2DInPlace: return true
        case .invertedResidual: return invertedResidualGeometry(op).canRunInPlace
        default: return false
        }
    }

    func validateLifetimes() throws(ModelError) {
        if tensorCount > 1 {
            // Two arrays of tensorCount entries (stack-allocated where the standard library can).
            let error = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * tensorCount) { buffer in
                let first = UnsafeMutableBufferPointer(rebasing: buffer[0..<tensorCount])
                let last = UnsafeMutableBufferPointer(rebasing: buffer[tensorCount..<(2 * tensorCount)])
                lifetimes(first: first, last: last)
                return overlap(first: first, last: last)
            }
            if let error { throw error }
        }
        // Scratch buffers are alive only during their op and must not share bytes with the
        // op's tensors.
        for i in 0..<opCount {
            let op = opRecord(i)
            let s = op.scratch
            guard s >= 0 else { continue }
            let (start, size) = scratch(s)
            for k in 0..<(op.inputCount + 1) {
                let t = k < op.inputCount ? op.input(k) : op.output(0)
                guard isArenaTensor(t) else { continue }
                let ts = arenaOffset(t)
                if start < ts + shape(t).elementCount && ts < start + size {
                    throw .overlappingBuffers(first: t, second: tensorCount + s, step: i)
                }
            }
        }
    }
}
