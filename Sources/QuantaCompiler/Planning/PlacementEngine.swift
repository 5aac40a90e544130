/// Places buffers one at a time in a strategy's order. O(n² log n) for n buffers: each
/// placement looks at the already placed buffers whose lifetimes overlap its own.
struct PlacementEngine {
    let requests: [BufferRequest]
    /// `MemoryPlanner.lowerBound(requests)`: the two-sided strategy's initial ceiling.
    let lowerBound: Int
    /// For each buffer, the buffers that may reuse it in place.
    let reusers: [[Int]]
    let targets: [Int?]

    init(requests: [BufferRequest], lowerBound: Int) {
        self.requests = requests
        self.lowerBound = lowerBound
        var reusers = [[Int]](repeating: [], count: requests.count)
        var targets = [Int?](repeating: nil, count: requests.count)
        for i in requests.indices {
            if let t = MemoryPlanner.reuseTarget(of: i, in: requests) {
                reusers[t].append(i)
                targets[i] = t
            }
        }
        self.reusers = reusers
        self.targets = targets
    }

    /// One offset per request, in request order.
    func place(strategy: PlacementStrategy) -> [Int] {
        var offsets = [Int?](repeating: nil, count: requests.count)
        var placed: [Int] = []
        placed.reserveCapacity(requests.count)
        let maxAlignment = requests.map { max(1, $0.alignment) }.max() ?? 1
        var top = 0  // highest end so far
        for i in strategy.order(requests) {
            let r = requests[i]
            let obstacles = placed.filter { j in
                requests[j].firstStep <= r.lastStep && r.firstStep <= requests[j].lastStep
            }
            let offset: Int
            if let inPlace = inPlaceOffset(i, obstacles: obstacles, offsets: offsets) {
                offset = inPlace
            } else {
                switch strategy {
                case .greedyBySize, .byLifetimeStart, .bySizeTimesLifetime:
                    offset = bestFit(r, obstacles: obstacles, offsets: offsets)
                case .twoSidedByLifetimeStart:
                    let ceiling = max(MemoryPlanner.alignUp(lowerBound, maxAlignment), top)
                    offset = twoSidedFit(r, obstacles: obstacles, offsets: offsets, ceiling: ceiling)
                }
            }
            offsets[i] = offset
            placed.append(i)
            top = max(top, offset + r.size)
        }
        return offsets.map { $0! }
    }

    /// The offset of a placed buffer that `i` may share in place (its reuse target, or a
    /// placed buffer that reuses `i`), when that offset is aligned for `i` and free of every
    /// other time-overlapping buffer.
    private func inPlaceOffset(_ i: Int, obstacles: [Int], offsets: [Int?]) -> Int? {
        var partners: [Int] = []
        if let t = targets[i] { partners.append(t) }
        partners += reusers[i]
        for partner in partners {
            guard let off = offsets[partner], off % max(1, requests[i].alignment) == 0 else { continue }
            let end = off + requests[i].size
            let free = obstacles.allSatisfy { j in
                j == partner || !(offsets[j]! < end && off < offsets[j]! + requests[j].size)
            }
            if free { return off }
        }
        return nil
    }

    /// The obstacles' occupied ranges sorted by start, and the gaps between them
    /// (`[start, end)`, first from 0), plus where the space above all of them begins.
    private func gaps(obstacles: [Int], offsets: [Int?]) -> (gaps: [(start: Int, end: Int)], top: Int) {
        let ranges = obstacles.map { (offsets[$0]!, offsets[$0]! + requests[$0].size) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var result: [(start: Int, end: Int)] = []
        var cursor = 0
        for (start, end) in ranges {
            if start > cursor { result.append((cursor, start)) }
            cursor = max(cursor, end)
        }
        return (result, cursor)
    }

    /// Smallest gap that fits `r` at an aligned offset (lowest such gap on ties), else the
    /// lowest aligned offset above every obstacle.
    private func bestFit(_ r: BufferRequest, obstacles: [Int], offsets: [Int?]) -> Int {
        let (gaps, top) = gaps(obstacles: obstacles, offsets: offsets)
        var best: (offset: Int, gap: Int)?
        for gap in gaps {
            let start = MemoryPlanner.alignUp(gap.start, r.alignment)
            guard start + r.size <= gap.end else { continue }
            let length = gap.end - gap.start
            if best == nil || length < best!.gap { best = (start, length) }
        }
        return best?.offset ?? MemoryPlanner.alignUp(top, r.alignment)
    }

    /// Among the gaps below `ceiling` (the space between the top obstacle and the ceiling
    /// included) that fit `r`, a position flush with offset 0 or with the ceiling first,
    /// then the smallest gap, then the lower offset; else the lowest aligned offset above
    /// every obstacle.
    private func twoSidedFit(_ r: BufferRequest, obstacles: [Int], offsets: [Int?], ceiling: Int) -> Int {
        var (gaps, top) = gaps(obstacles: obstacles, offsets: offsets)
        if top < ceiling { gaps.append((top, ceiling)) }
        // (touches floor or ceiling ? 0 : 1, gap length, offset): smaller is better.
        var best: (rank: Int, gap: Int, offset: Int)?
        func consider(_ offset: Int, touches: Bool, gap: Int) {
            let candidate = (rank: touches ? 0 : 1, gap: gap, offset: offset)
            if let b = best, (b.rank, b.gap, b.offset) <= (candidate.rank, candidate.gap, candidate.offset) { return }
            best = candidate
        }
        for gap in gaps {
            let length = gap.end - gap.start
            let low = MemoryPlanner.alignUp(gap.start, r.alignment)
            guard low + r.size <= gap.end else { continue }
            consider(low, touches: low == 0, gap: length)
            let high = MemoryPlanner.alignDown(gap.end - r.size, r.alignment)
            if high >= low { consider(high, touches: high + r.size == ceiling, gap: length) }
        }
        return best?.offset ?? MemoryPlanner.alignUp(top, r.alignment)
    }
}
