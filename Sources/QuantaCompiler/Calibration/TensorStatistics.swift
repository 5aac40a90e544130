import CQuantaHost

/// Running statistics of one activation tensor over the calibration samples: count,
/// minimum, maximum and a fixed-size histogram whose range grows with the data.
///
/// The histogram has `binCount` bins of width `binWidth`; bin `i` holds the values in
/// `[(firstBin + i) * binWidth, (firstBin + i + 1) * binWidth)`, so zero is always a bin
/// edge and the histogram can be folded to |x| exactly. The first non-zero data sets
/// `binWidth` so that `[min(0, lo), max(0, hi)]` spans `binCount - 2` bins. When later data
/// falls outside the window, the window moves if the data's span still fits in `binCount`
/// bins; otherwise the width is doubled (as often as needed) and every old bin `a`
/// (absolute index) is merged into bin `a >> k` (floor division by 2^k). Either way
/// re-binning is exact (no count moves across a bin edge), the occupied span is then
/// centred in the window, and the result depends only on the values and the order in
/// which they were observed. Non-finite values are counted apart and ignored.
public struct TensorStatistics: Equatable, Sendable {
    public static let defaultBinCount = 2048

    public let binCount: Int
    /// Finite values observed.
    public private(set) var count: Int = 0
    /// NaN and infinite values observed (not in `min`, `max` or the histogram).
    public private(set) var nonFiniteCount: Int = 0
    /// Values exactly 0 observed (also in the histogram). ReLU outputs are often half zeros;
    /// zero is always exactly representable, so the entropy and MSE methods treat them apart.
    public private(set) var zeroCount: Int = 0
    /// Smallest finite value observed (+infinity before any).
    public private(set) var min: Float = .infinity
    /// Largest finite value observed (-infinity before any).
    public private(set) var max: Float = -.infinity
    /// Width of each bin; 0 while every value seen is zero.
    public private(set) var binWidth: Double = 0
    /// Absolute index of the first bin (see the type's comment).
    public private(set) var firstBin: Int = 0
    /// `binCount` counts once `binWidth > 0`, empty before.
    public private(set) var counts: [Int] = []

    /// `binCount` must be even and at least 256 (the entropy method quantizes to 128 levels).
    public init(binCount: Int = TensorStatistics.defaultBinCount) {
        precondition(binCount >= 256 && binCount % 2 == 0, "binCount must be even and >= 256")
        self.binCount = binCount
    }

    /// Adds `values` to the statistics. Returns their largest finite |value| (0 when none):
    /// the sample's magnitude for the calibrator's outlier report.
    @discardableResult
    public mutating func observe(_ values: UnsafeBufferPointer<Float>) -> Float {
        // Once the histogram exists, one pass (C, CQuantaHost) summarizes the values and
        // counts those inside the window; only when some fall outside does the window grow
        // (re-binning the counts, this sample's included, exactly) and a second pass count
        // the rest. The counts are those of the two-pass form below, value for value.
        if binWidth > 0, Swift.abs(firstBin) < 1 << 51 {
            let oldWidth = binWidth, oldFirst = firstBin, last = binCount - 1
            var summary = quanta_float_summary()
            let outside = counts.withUnsafeMutableBufferPointer { bins in
                quanta_observe_window(values.baseAddress, values.count, oldWidth, oldFirst, last, bins.baseAddress, &summary)
            }
            guard add(summary, of: values.count) else { return 0 }
            if outside > 0 {
                grow(toCover: Double(Swift.min(min, 0)), Double(Swift.max(max, 0)))
                let width = binWidth, first = firstBin
                counts.withUnsafeMutableBufferPointer { bins in
                    quanta_bin_outside(values.baseAddress, values.count, oldWidth, oldFirst, last, width, first, last, bins.baseAddress)
                }
            }
            return Self.magnitude(summary)
        }
        let summary = quanta_summarize(values.baseAddress, values.count)
        let zerosSoFar = count  // meaningful only while binWidth == 0 (all values so far were 0)
        guard add(summary, of: values.count) else { return 0 }
        let magnitude = Self.magnitude(summary)
        let spanLo = Double(Swift.min(min, 0)), spanHi = Double(Swift.max(max, 0))
        if binWidth == 0 {
            guard spanHi > spanLo else { return magnitude }  // still all zeros
            var width = (spanHi - spanLo) / Double(binCount - 2)
            while Self.absoluteBin(spanHi, width) - Self.absoluteBin(spanLo, width) >= binCount { width *= 2 }
            binWidth = width
            firstBin = Self.absoluteBin(spanLo, width)
            counts = [Int](repeating: 0, count: binCount)
            counts[-firstBin] += zerosSoFar  // value 0 lies in absolute bin 0
        } else {
            grow(toCover: spanLo, spanHi)
        }
        let width = binWidth, first = firstBin, last = binCount - 1
        counts.withUnsafeMutableBufferPointer { bins in
            quanta_bin(values.baseAddress, values.count, width, first, last, bins.baseAddress)
        }
        return magnitude
    }

    /// Adds the counts, minimum and maximum of `summary` (of `total` values); false when
    /// none of them was finite.
    private mutating func add(_ summary: quanta_float_summary, of total: Int) -> Bool {
        zeroCount += summary.zeros
        nonFiniteCount += total - summary.finite
        guard summary.finite > 0 else { return false }
        count += summary.finite
        min = Swift.min(min, summary.lo)
        max = Swift.max(max, summary.hi)
        return true
    }

    /// The largest finite |value| of a summary with finite values.
    private static func magnitude(_ summary: quanta_float_summary) -> Float {
        Swift.max(Swift.abs(summary.lo), Swift.abs(summary.hi))
    }

    /// `observe`'s definition, value by value in Swift (the form before the C loops): the
    /// tests compare `observe` with it on random data, window growth, zeros of both signs
    /// and non-finite values.
    @discardableResult
    mutating func observeReference(_ values: UnsafeBufferPointer<Float>) -> Float {
        var lo = Float.infinity, hi = -Float.infinity
        var finite = 0, zeros = 0
        var magnitude: Float = 0
        for x in values where x.isFinite {
            lo = Swift.min(lo, x)
            hi = Swift.max(hi, x)
            magnitude = Swift.max(magnitude, Swift.abs(x))
            finite += 1
            if x == 0 { zeros += 1 }
        }
        zeroCount += zeros
        nonFiniteCount += values.count - finite
        guard finite > 0 else { return 0 }
        let zerosSoFar = count
        count += finite
        min = Swift.min(min, lo)
        max = Swift.max(max, hi)
        let spanLo = Double(Swift.min(min, 0)), spanHi = Double(Swift.max(max, 0))
        if binWidth == 0 {
            guard spanHi > spanLo else { return magnitude }
            var width = (spanHi - spanLo) / Double(binCount - 2)
            while Self.absoluteBin(spanHi, width) - Self.absoluteBin(spanLo, width) >= binCount { width *= 2 }
            binWidth = width
            firstBin = Self.absoluteBin(spanLo, width)
            counts = [Int](repeating: 0, count: binCount)
            counts[-firstBin] += zerosSoFar
        } else {
            grow(toCover: spanLo, spanHi)
        }
        for x in values where x.isFinite {
            let i = Self.absoluteBin(Double(x), binWidth) - firstBin
            counts[Swift.min(Swift.max(i, 0), binCount - 1)] += 1
        }
        return magnitude
    }

    @discardableResult
    public mutating func observe(_ values: [Float]) -> Float {
        values.withUnsafeBufferPointer { observe($0) }
    }

    /// Makes the window cover the occupied bins and `[lo, hi]`: moves it when their span
    /// fits in `binCount` bins, otherwise doubles the width (merging bin `a` into `a >> k`)
    /// until it does; then centres the span in the window.
    private mutating func grow(toCover lo: Double, _ hi: Double) {
        let needLo = Self.absoluteBin(lo, binWidth), needHi = Self.absoluteBin(hi, binWidth)
        if needLo >= firstBin && needHi < firstBin + binCount { return }
        guard let i0 = counts.firstIndex(where: { $0 != 0 }), let i1 = counts.lastIndex(where: { $0 != 0 }) else {
            return  // unreachable: a histogram exists only once a value was binned
        }
        var shift = 0
        var width = binWidth
        var low = Swift.min(firstBin + i0, needLo), high = Swift.max(firstBin + i1, needHi)
        while high - low >= binCount {
            shift += 1
            width *= 2
            low = Swift.min((firstBin + i0) >> shift, Self.absoluteBin(lo, width))
            high = Swift.max((firstBin + i1) >> shift, Self.absoluteBin(hi, width))
        }
        let newFirst = low - (binCount - 1 - (high - low)) / 2
        var moved = [Int](repeating: 0, count: binCount)
        for i in i0...i1 where counts[i] != 0 {
            moved[((firstBin + i) >> shift) - newFirst] += counts[i]
        }
        counts = moved
        binWidth = width
        firstBin = newFirst
    }

    /// The share (0...1) of the finite values seen that lie outside `range`, from the
    /// histogram: whole bins outside count fully, a bin the range cuts counts by the part
    /// outside (values spread evenly between the bin's edges, narrowed to the exact min and
    /// max seen: so a MinMax range clips nothing). 0 before any value.
    public func share(outside range: ClosedRange<Float>) -> Double {
        guard count > 0 else { return 0 }
        if binWidth == 0 {  // only zeros so far
            return range.contains(0) ? 0 : 1
        }
        let lo = Double(range.lowerBound), hi = Double(range.upperBound)
        var outside = 0.0
        for (i, c) in counts.enumerated() where c != 0 {
            // The bin's values lie within both its edges and the exact min and max seen.
            let a = Swift.max(edge(i), Double(min)), b = Swift.min(edge(i + 1), Double(max))
            if b <= a {
                if a < lo || a > hi { outside += Double(c) }
                continue
            }
            let inside = Swift.max(0, Swift.min(b, hi) - Swift.max(a, lo))
            outside += Double(c) * (1 - Swift.min(1, inside / (b - a)))
        }
        return Swift.min(1, outside / Double(count))
    }

    /// `floor(x / width)`, saturated to ±2^60 (0 for NaN).
    @inline(__always)
    static func absoluteBin(_ x: Double, _ width: Double) -> Int {
        // Saturated at ±2^60, so that the difference of two bins (±2^61) and a bin plus a
        // window offset never overflow `Int` (±2^62 did: float extremes such as ±3.4e38
        // after a tiny first width made `high - low` overflow, found by fuzzing).
        let q = (x / width).rounded(.down)
        if q >= 0x1p60 { return 1 << 60 }
        if q <= -0x1p60 { return -(1 << 60) }
        if q.isNaN { return 0 }
        return Int(q)
    }

    /// The lower edge of bin `i` (relative index; `i == binCount` gives the top edge).
    public func edge(_ i: Int) -> Double { Double(firstBin + i) * binWidth }

    /// The range the method chooses; `0...0` before any finite value. The bounds are
    /// always within `[min, max]`.
    public func range(_ method: CalibrationMethod) -> ClosedRange<Float> {
        guard count > 0 else { return 0...0 }
        guard method.needsHistogram, binWidth > 0 else { return min...max }
        let chosen: (lo: Double, hi: Double)
        switch method {
        case .minmax: return min...max
        case .percentile(let p): chosen = percentileRange(p)
        case .entropy:
            let t = entropyThreshold()
            chosen = (-t, t)
        case .mse: chosen = mseRange()
        }
        let lo = Swift.min(Swift.max(Float(chosen.lo), min), max)
        let hi = Swift.max(Swift.min(Float(chosen.hi), max), lo)
        return lo...hi
    }
}
