/// The order in which the planner places buffers, and how it picks a gap.
///
/// All strategies first try in-place reuse (see `MemoryPlanner`), then a gap. None is best
/// on every graph (optimal placement is NP-hard), so `MemoryPlanner.plan(_:)` runs them all
/// and keeps the smallest arena.
public enum PlacementStrategy: String, CaseIterable, Equatable, Sendable {
    /// Largest first (ties: earlier `firstStep`, then request order); smallest fitting gap,
    /// else just above the time-overlapping buffers already placed.
    case greedyBySize
    /// Earliest `firstStep` first (ties: larger first, then request order); smallest fitting gap.
    case byLifetimeStart
    /// Largest `size × (lastStep - firstStep + 1)` first (ties: earlier `firstStep`, then
    /// request order); smallest fitting gap.
    case bySizeTimesLifetime
    /// Earliest `firstStep` first, with a ceiling at the lower bound (rounded up to the
    /// largest alignment, raised to the current top when that is higher): among the gaps
    /// below the ceiling that fit, prefer a position flush with the floor (offset 0) or
    /// the ceiling, then the smallest gap. Alternating floor and ceiling makes chains of
    /// ops reach the lower bound, which the bottom-up strategies can miss.
    case twoSidedByLifetimeStart

    /// The order of request indices this strategy places in.
    func order(_ requests: [BufferRequest]) -> [Int] {
        let indices = Array(requests.indices)
        switch self {
        case .greedyBySize:
            return indices.sorted { a, b in
                let ra = requests[a], rb = requests[b]
                if ra.size != rb.size { return ra.size > rb.size }
                if ra.firstStep != rb.firstStep { return ra.firstStep < rb.firstStep }
                return a < b
            }
        case .byLifetimeStart, .twoSidedByLifetimeStart:
            return indices.sorted { a, b in
                let ra = requests[a], rb = requests[b]
                if ra.firstStep != rb.firstStep { return ra.firstStep < rb.firstStep }
                if ra.size != rb.size { return ra.size > rb.size }
                return a < b
            }
        case .bySizeTimesLifetime:
            func area(_ r: BufferRequest) -> Int { r.size * (r.lastStep - r.firstStep + 1) }
            return indices.sorted { a, b in
                let ra = requests[a], rb = requests[b]
                let aa = area(ra), ab = area(rb)
                if aa != ab { return aa > ab }
                if ra.firstStep != rb.firstStep { return ra.firstStep < rb.firstStep }
                return a < b
            }
        }
    }
}

/// How one strategy did on a set of requests.
public struct StrategyResult: Equatable, Sendable {
    public var strategy: PlacementStrategy
    public var arenaSize: Int
}

/// Two buffers that share storage in a plan: `buffer` was written in place over `reused`.
public struct InPlaceReuse: Equatable, Hashable, Sendable {
    public var buffer: Int
    public var reused: Int
}

/// What the planner did: which strategy won, every strategy's arena, the lower bound and
/// the step where it is reached, and the in-place reuses taken.
public struct PlanReport: Equatable {
    public var chosen: PlacementStrategy
    /// Every strategy's arena size, in `PlacementStrategy.allCases` order.
    public var strategies: [StrategyResult]
    public var lowerBound: Int
    /// The first step at which `lowerBound` bytes are alive (nil without buffers).
    public var peakStep: Int?
    public var inPlace: [InPlaceReuse]

    /// The chosen arena size.
    public var arenaSize: Int { strategies.first { $0.strategy == chosen }?.arenaSize ?? 0 }
}
