/// The bytes alive at each step, as `MemoryPlanner.lowerBound(_:)` counts them.
public struct LiveProfile: Equatable {
    /// The largest number of bytes alive at one step (the lower bound of any arena).
    public var peakBytes: Int
    /// The first step at which `peakBytes` are alive; nil when there are no buffers.
    public var peakStep: Int?
    /// Bytes alive from each listed step until the next listed one, in increasing step
    /// order; the last entry is always 0 bytes (after every buffer's `lastStep`).
    public var changes: [(step: Int, bytes: Int)]

    public static func == (a: LiveProfile, b: LiveProfile) -> Bool {
        a.peakBytes == b.peakBytes && a.peakStep == b.peakStep
            && a.changes.elementsEqual(b.changes) { $0.step == $1.step && $0.bytes == $1.bytes }
    }

    /// Bytes alive at `step`.
    public func bytes(at step: Int) -> Int {
        var result = 0
        for change in changes {
            if change.step > step { break }
            result = change.bytes
        }
        return result
    }
}

extension MemoryPlanner {
    /// Sweeps the lifetimes once: +size at `firstStep`, -size after `lastStep`, and for
    /// each buffer that may be reused in place the largest eligible reuser is not counted
    /// at its handover step. O(n log n) in the number of requests, independent of how
    /// many steps there are.
    public static func liveProfile(_ requests: [BufferRequest]) -> LiveProfile {
        var events: [(step: Int, delta: Int)] = []
        events.reserveCapacity(requests.count * 2)
        for r in requests where r.size > 0 {
            events.append((r.firstStep, r.size))
            events.append((r.lastStep + 1, -r.size))
        }
        // At most one reuser per target lies inside it: discount the largest.
        var discounted: [Int: Int] = [:]  // target -> reuser
        for i in requests.indices {
            guard let t = reuseTarget(of: i, in: requests) else { continue }
            if let other = discounted[t], requests[other].size >= requests[i].size { continue }
            discounted[t] = i
        }
        for reuser in discounted.values {
            let r = requests[reuser]
            guard r.size > 0 else { continue }
            events.append((r.firstStep, -r.size))
            events.append((r.firstStep + 1, r.size))
        }
        events.sort { $0.step < $1.step }

        var changes: [(step: Int, bytes: Int)] = []
        var live = 0
        var peak = 0
        var peakStep: Int? = requests.isEmpty ? nil : requests.map(\.firstStep).min()
        var k = 0
        while k < events.count {
            let step = events[k].step
            while k < events.count && events[k].step == step {
                live += events[k].delta
                k += 1
            }
            changes.append((step, live))
            if live > peak {
                peak = live
                peakStep = step
            }
        }
        return LiveProfile(peakBytes: peak, peakStep: peakStep, changes: changes)
    }
}
