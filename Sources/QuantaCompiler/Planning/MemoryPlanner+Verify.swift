/// The first way in which a plan breaks the planner's guarantees (`MemoryPlanner.verify`).
public enum PlanViolation: Equatable, Error {
    /// The plan has `actual` offsets for `expected` requests.
    case offsetCount(expected: Int, actual: Int)
    /// A request that no plan can satisfy: negative size or `firstStep > lastStep`.
    case invalidRequest(buffer: Int, size: Int, firstStep: Int, lastStep: Int)
    case negativeOffset(buffer: Int, offset: Int)
    case misaligned(buffer: Int, offset: Int, alignment: Int)
    /// The buffer's bytes `offset ..< end` do not fit in the arena.
    case outsideArena(buffer: Int, end: Int, arenaSize: Int)
    /// Two buffers alive together at `step` share the bytes `bytes` without one validly
    /// reusing the other in place.
    case overlap(first: Int, second: Int, step: Int, bytes: Range<Int>)
    /// `plan.lowerBound` differs from `MemoryPlanner.lowerBound(requests)`.
    case lowerBoundMismatch(stored: Int, computed: Int)
    /// The arena is smaller than the lower bound (only possible when another check failed).
    case arenaBelowLowerBound(arenaSize: Int, lowerBound: Int)
}

extension MemoryPlanner {
    /// Checks every guarantee of `plan(_:)` on `plan` and returns the first violation, or
    /// nil. Order: offset count, then per buffer in request order (valid request, offset
    /// ≥ 0, aligned, inside the arena), then pairs `(i, j)`, `i < j`, in lexicographic
    /// order (no shared byte while both are alive, except a valid in-place reuse at the
    /// same offset), then the stored lower bound.
    ///
    /// Two buffers `a`, `b` may share bytes only when `b` validly reuses `a`
    /// (`reuseTarget(of: b) == a`) and both have the same offset: then `b` lies inside `a`
    /// and they are both alive only at the handover step.
    public static func verify(plan: ArenaPlan, requests: [BufferRequest]) -> PlanViolation? {
        guard plan.offsets.count == requests.count else {
            return .offsetCount(expected: requests.count, actual: plan.offsets.count)
        }
        for (i, r) in requests.enumerated() {
            if r.size < 0 || r.firstStep > r.lastStep {
                return .invalidRequest(buffer: i, size: r.size, firstStep: r.firstStep, lastStep: r.lastStep)
            }
            let offset = plan.offsets[i]
            if offset < 0 { return .negativeOffset(buffer: i, offset: offset) }
            if offset % max(1, r.alignment) != 0 { return .misaligned(buffer: i, offset: offset, alignment: r.alignment) }
            if offset + r.size > plan.arenaSize {
                return .outsideArena(buffer: i, end: offset + r.size, arenaSize: plan.arenaSize)
            }
        }
        for i in requests.indices {
            let a = requests[i], aStart = plan.offsets[i], aEnd = aStart + a.size
            for j in (i + 1)..<requests.count {
                let b = requests[j]
                guard a.firstStep <= b.lastStep && b.firstStep <= a.lastStep else { continue }
                let bStart = plan.offsets[j], bEnd = bStart + b.size
                guard aStart < bEnd && bStart < aEnd else { continue }
                if aStart == bStart && (reuseTarget(of: j, in: requests) == i || reuseTarget(of: i, in: requests) == j) {
                    continue
                }
                return .overlap(
                    first: i, second: j, step: max(a.firstStep, b.firstStep),
                    bytes: max(aStart, bStart)..<min(aEnd, bEnd))
            }
        }
        let computed = lowerBound(requests)
        if plan.lowerBound != computed { return .lowerBoundMismatch(stored: plan.lowerBound, computed: computed) }
        if plan.arenaSize < computed { return .arenaBelowLowerBound(arenaSize: plan.arenaSize, lowerBound: computed) }
        return nil
    }
}
