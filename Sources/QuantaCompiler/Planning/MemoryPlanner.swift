/// One buffer the arena must hold: an activation tensor or a kernel scratch buffer.
///
/// The buffer is live from the start of step `firstStep` to the end of step `lastStep`
/// (steps are op indices in execution order; graph inputs use `firstStep == 0`, graph
/// outputs `lastStep == opCount - 1`).
public struct BufferRequest: Equatable {
    public var size: Int
    public var firstStep: Int
    public var lastStep: Int
    /// Offsets are multiples of this (a power of two, at least 1).
    public var alignment: Int
    /// A buffer whose storage this one may take over (in-place execution): allowed when
    /// that buffer's `lastStep == firstStep` of this one and the op permits aliasing.
    public var mayReuse: Int?

    public init(size: Int, firstStep: Int, lastStep: Int, alignment: Int = 16, mayReuse: Int? = nil) {
        self.size = size
        self.firstStep = firstStep
        self.lastStep = lastStep
        self.alignment = alignment
        self.mayReuse = mayReuse
    }
}

/// Where each buffer lives in the arena, the arena's size, and the lower bound any plan
/// of whole buffers must respect (the largest total of bytes alive at one step).
public struct ArenaPlan: Equatable {
    /// Offset of each request, in request order.
    public var offsets: [Int]
    public var arenaSize: Int
    public var lowerBound: Int

    public init(offsets: [Int], arenaSize: Int, lowerBound: Int) {
        self.offsets = offsets
        self.arenaSize = arenaSize
        self.lowerBound = lowerBound
    }
}

/// Places buffers with known lifetimes into one arena.
///
/// The algorithm (docs/MEMORY.md): each `PlacementStrategy` orders the buffers and places
/// them one by one — in place over the buffer named by `mayReuse` when that is allowed and
/// free, else in the smallest gap between already placed, time-overlapping buffers that
/// fits, else just above them. `plan(_:)` runs every strategy and keeps the smallest arena
/// (ties go to the earlier strategy in `PlacementStrategy.allCases`).
///
/// In-place reuse: buffer `b` may take exactly the offset of `a = b.mayReuse` when
/// `a.lastStep == b.firstStep` and `b.size <= a.size` (and `a`'s offset satisfies `b`'s
/// alignment). The two then share bytes only at the handover step, where the op reads `a`
/// and writes `b` in place. No other pair of time-overlapping buffers shares a byte.
public enum MemoryPlanner {
    /// Plans `requests` into one arena. Guarantees: two buffers whose lifetimes overlap
    /// never overlap in memory (unless one reuses the other as allowed by `mayReuse`);
    /// every buffer ends inside `arenaSize`; offsets respect alignment.
    ///
    /// Precondition: every request has `size >= 0` and `firstStep <= lastStep`.
    public static func plan(_ requests: [BufferRequest]) -> ArenaPlan {
        planWithReport(requests).plan
    }

    /// The largest total size of buffers alive at any one step. A buffer that validly
    /// reuses another in place (see `reuseTarget(of:in:)`) is not counted at the handover
    /// step, where it lies inside the buffer it reuses; when several buffers may reuse the
    /// same one, only the largest of them is discounted, since at most one can take its place.
    ///
    /// Every valid plan's `arenaSize` is at least this. O(n log n) in the number of requests.
    public static func lowerBound(_ requests: [BufferRequest]) -> Int {
        liveProfile(requests).peakBytes
    }
}

extension MemoryPlanner {
    /// Plans with every strategy, keeps the smallest arena, and reports how each did.
    public static func planWithReport(_ requests: [BufferRequest]) -> (plan: ArenaPlan, report: PlanReport) {
        checkPreconditions(requests)
        let profile = liveProfile(requests)
        var results: [StrategyResult] = []
        var best: (strategy: PlacementStrategy, offsets: [Int], arena: Int)?
        for strategy in PlacementStrategy.allCases {
            let offsets = PlacementEngine(requests: requests, lowerBound: profile.peakBytes).place(strategy: strategy)
            let arena = arenaSize(requests, offsets: offsets)
            results.append(StrategyResult(strategy: strategy, arenaSize: arena))
            if best == nil || arena < best!.arena { best = (strategy, offsets, arena) }
        }
        let chosen = best!
        let plan = ArenaPlan(offsets: chosen.offsets, arenaSize: chosen.arena, lowerBound: profile.peakBytes)
        let report = PlanReport(
            chosen: chosen.strategy, strategies: results, lowerBound: profile.peakBytes,
            peakStep: profile.peakStep, inPlace: inPlaceReuses(requests, offsets: chosen.offsets))
        return (plan, report)
    }

    /// Plans with one strategy only (for comparison and tests).
    public static func plan(_ requests: [BufferRequest], strategy: PlacementStrategy) -> ArenaPlan {
        checkPreconditions(requests)
        let bound = lowerBound(requests)
        let offsets = PlacementEngine(requests: requests, lowerBound: bound).place(strategy: strategy)
        return ArenaPlan(offsets: offsets, arenaSize: arenaSize(requests, offsets: offsets), lowerBound: bound)
    }

    /// The buffer `requests[index]` may take over in place, or nil: its `mayReuse`, when
    /// that names another request whose `lastStep` is this one's `firstStep` and whose
    /// size is at least this one's. (Alignment of the shared offset is checked at placement.)
    public static func reuseTarget(of index: Int, in requests: [BufferRequest]) -> Int? {
        let r = requests[index]
        guard let t = r.mayReuse, t >= 0, t < requests.count, t != index else { return nil }
        let target = requests[t]
        guard target.lastStep == r.firstStep, r.size <= target.size else { return nil }
        return t
    }

    /// The pairs that actually share storage in place in `offsets`: each valid reuse whose
    /// two buffers got the same offset.
    public static func inPlaceReuses(_ requests: [BufferRequest], offsets: [Int]) -> [InPlaceReuse] {
        var result: [InPlaceReuse] = []
        for i in requests.indices {
            if let t = reuseTarget(of: i, in: requests), offsets[i] == offsets[t], requests[i].size > 0 {
                result.append(InPlaceReuse(buffer: i, reused: t))
            }
        }
        return result
    }

    /// `max(offset + size)` over all buffers (0 when there are none).
    static func arenaSize(_ requests: [BufferRequest], offsets: [Int]) -> Int {
        var end = 0
        for i in requests.indices { end = max(end, offsets[i] + requests[i].size) }
        return end
    }

    static func checkPreconditions(_ requests: [BufferRequest]) {
        for (i, r) in requests.enumerated() {
            precondition(r.size >= 0, "buffer \(i): negative size \(r.size)")
            precondition(r.firstStep <= r.lastStep, "buffer \(i): firstStep \(r.firstStep) > lastStep \(r.lastStep)")
        }
    }

    /// Rounds `value` up to a multiple of `alignment` (values below 1 count as 1).
    static func alignUp(_ value: Int, _ alignment: Int) -> Int {
        let a = max(1, alignment)
        let r = value % a
        return r == 0 ? value : value + (a - r)
    }

    /// Rounds a non-negative `value` down to a multiple of `alignment`.
    static func alignDown(_ value: Int, _ alignment: Int) -> Int {
        let a = max(1, alignment)
        return value - value % a
    }
}
