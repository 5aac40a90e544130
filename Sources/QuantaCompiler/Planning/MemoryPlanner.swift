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

public enum MemoryPlanner {
    /// Plans `requests` into one arena. Guarantees: two buffers whose lifetimes overlap
    /// never overlap in memory (unless one reuses the other as allowed by `mayReuse`);
    /// every buffer ends inside `arenaSize`; offsets respect alignment.
    public static func plan(_ requests: [BufferRequest]) -> ArenaPlan {
        // Sequential placement: correct and simple; replaced by best-fit placement.
        var offsets: [Int] = []
        var end = 0
        for r in requests {
            let a = max(1, r.alignment)
            let off = (end + a - 1) / a * a
            offsets.append(off)
            end = off + r.size
        }
        return ArenaPlan(offsets: offsets, arenaSize: end, lowerBound: lowerBound(requests))
    }

    /// The largest total size of buffers alive at any one step.
    public static func lowerBound(_ requests: [BufferRequest]) -> Int {
        guard let last = requests.map(\.lastStep).max() else { return 0 }
        var best = 0
        for step in 0...max(0, last) {
            let total = requests.filter { $0.firstStep <= step && step <= $0.lastStep }.reduce(0) { $0 + $1.size }
            best = max(best, total)
        }
        return best
    }
}
