import QuantaKernels

/// Validation of the arena plan beyond bounds: buffers that are alive at the same step
/// must not share bytes, except where an op works in place.
extension Model {
    /// First and last step (op index) at which tensor `t` is alive: from its producer (step 0
    /// for model inputs and tensors no op writes) to its last reader (the last op for model
    /// outputs).
    public func lifetime(_ t: Int) -> (first: Int, last: Int) {
        var first = -1, last = -1
        for i in 0..<opCount {
            let op = opRecord(i)
            if first < 0 && op.output(0) == t { first = i }
            for k in 0..<op.inputCount where op.input(k) == t { last = i }
        }
        for k in 0..<outputCount where outputTensor(k) == t { last = opCount - 1 }
        for k in 0..<inputCount where inputTensor(k) == t { first = 0 }
        if first < 0 { first = 0 }
        if last < first { last = first }
        return (first, last)
    }

    /// Whether op `step` may write `output` over `input` (same arena offset): lookup tables,
    /// reshapes and an add's first input, when the input dies at that op.
    func mayWorkInPlace(step: Int, input: Int, output: Int) -> Bool {
        guard step >= 0, step < opCount else { return false }
        let op = opRecord(step)
        guard op.output(0) == output, op.input(0) == input, arenaOffset(input) == arenaOffset(output) else {
            return false
        }
        switch OpKind(rawValue: op.kindByte) {
        case .lookupTable, .reshape: return true
        case .add: return op.input(1) != input
        default: return false
        }
    }

    func validateLifetimes() throws(ModelError) {
        guard tensorCount > 1 else { return }
        for a in 0..<tensorCount where isArenaTensor(a) {
            let startA = arenaOffset(a), endA = startA + shape(a).elementCount
            var lifeA: (first: Int, last: Int)? = nil
            for b in (a + 1)..<tensorCount where isArenaTensor(b) {
                let startB = arenaOffset(b), endB = startB + shape(b).elementCount
                guard startA < endB, startB < endA else { continue }
                let la = lifeA ?? lifetime(a)
                lifeA = la
                let lb = lifetime(b)
                guard la.first <= lb.last, lb.first <= la.last else { continue }
                // Touching lifetimes are allowed only for an in-place op at that step.
                if la.last == lb.first && mayWorkInPlace(step: la.last, input: a, output: b) { continue }
                if lb.last == la.first && mayWorkInPlace(step: lb.last, input: b, output: a) { continue }
                throw .overlappingBuffers(first: a, second: b, step: max(la.first, lb.first))
            }
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
