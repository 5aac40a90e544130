import Foundation

/// Summary of repeated timings of one thing, in milliseconds.
///
/// `median` is the middle sample (the mean of the two middle ones for an even count);
/// `spread` is `(max - min) / median`, 0 when the median is 0. Built from at least one
/// sample.
public struct LatencyStatistics: Codable, Equatable {
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    public var spread: Double
    public var samples: Int

    /// - Precondition: `nanoseconds` is not empty.
    public init(nanoseconds: [UInt64]) {
        precondition(!nanoseconds.isEmpty, "no timings")
        let sorted = nanoseconds.sorted().map { Double($0) / 1e6 }
        let mid = sorted.count / 2
        medianMs = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        minMs = sorted[0]
        maxMs = sorted[sorted.count - 1]
        spread = medianMs > 0 ? (maxMs - minMs) / medianMs : 0
        samples = sorted.count
    }
}

/// A monotonic nanosecond clock (`CLOCK_MONOTONIC`).
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A small deterministic generator (SplitMix64) for benchmark inputs: the same seed gives
/// the same bytes on every machine.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` int8 values, uniform over -128...127.
    public mutating func int8(count: Int) -> [Int8] {
        (0..<count).map { _ in Int8(truncatingIfNeeded: next() >> 56) }
    }
}
