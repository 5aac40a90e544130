import Foundation

/// The histogram methods behind `TensorStatistics.range(_:)`. Each returns unclamped
/// bounds; `range(_:)` intersects them with `[min, max]`. All loops run in a fixed order
/// over the bins, so the same statistics always give the same range.
extension TensorStatistics {
    // MARK: Percentile

    /// `lo`: the lower edge of the first bin where the running count from below exceeds
    /// `cut = (100 - p) / 200 * count`; `hi`: the upper edge of the first bin where the
    /// running count from above exceeds `cut`. At most `cut` values lie below `lo`
    /// and at most `cut` above `hi`.
    func percentileRange(_ percentile: Double) -> (lo: Double, hi: Double) {
        let p = percentile.isNaN ? 100 : Swift.min(Swift.max(percentile, 0), 100)
        let cut = (100 - p) / 200 * Double(count)
        var lo = edge(0), hi = edge(binCount)
        var running = 0.0
        for i in 0..<binCount {
            running += Double(counts[i])
            if running > cut {
                lo = edge(i)
                break
            }
        }
        running = 0
        for i in stride(from: binCount - 1, through: 0, by: -1) {
            running += Double(counts[i])
            if running > cut {
                hi = edge(i + 1)
                break
            }
        }
        return (lo, hi)
    }

    // MARK: Entropy

    /// The histogram of |x|: folded bin `j` counts the values with |x| in `[j, j+1) * binWidth`
    /// (up to the half-open side at zero), trimmed after the last non-empty bin.
    func foldedHistogram() -> [Double] {
        let length = Swift.max(firstBin + binCount, -firstBin, 0)
        var folded = [Double](repeating: 0, count: length)
        for i in 0..<binCount where counts[i] != 0 {
            let a = firstBin + i
            folded[a >= 0 ? a : -a - 1] += Double(counts[i])
        }
        let used = (folded.lastIndex(where: { $0 != 0 }) ?? -1) + 1
        return Array(folded[0..<used])
    }

    /// TensorRT's entropy calibration on the |x| histogram (as in MXNet and ONNX Runtime):
    /// for each candidate threshold of `i` bins (`quantizedBins ... used bins`), the
    /// reference `P` is the first `i` bins with everything beyond added to the last one;
    /// the candidate `Q` merges those `i` bins (without the outliers) into `quantizedBins`
    /// groups of `i / quantizedBins` bins (the last group takes the remainder) and spreads
    /// each group's count evenly over the bins where `P` is non-zero. Both are smoothed
    /// (zeros become 1e-4, taken evenly from the non-zero bins) and normalized, and the
    /// threshold with the smallest KL(P || Q) wins (the first on ties). Returns
    /// `threshold = i * binWidth`; the whole |x| range when it spans at most `quantizedBins` bins.
    public func entropyThreshold(quantizedBins: Int = 128) -> Double {
        let folded = foldedHistogram()
        guard folded.count > quantizedBins else { return Double(folded.count) * binWidth }
        let total = folded.reduce(0, +)
        var bestDivergence = Double.infinity
        var bestBins = folded.count
        var p = [Double](repeating: 0, count: folded.count)
        var q = [Double](repeating: 0, count: folded.count)
        var inside = 0.0
        for j in 0..<quantizedBins { inside += folded[j] }
        for i in quantizedBins...folded.count {
            if i > quantizedBins { inside += folded[i - 1] }
            for j in 0..<i { p[j] = folded[j] }
            p[i - 1] += total - inside
            let merged = i / quantizedBins
            for group in 0..<quantizedBins {
                let start = group * merged
                let end = group == quantizedBins - 1 ? i : start + merged
                var sum = 0.0
                var nonZero = 0
                for j in start..<end {
                    sum += folded[j]
                    if p[j] != 0 { nonZero += 1 }
                }
                let share = nonZero == 0 ? 0 : sum / Double(nonZero)
                for j in start..<end { q[j] = p[j] != 0 ? share : 0 }
            }
            guard let divergence = Self.smoothedKLDivergence(p, q, count: i) else { continue }
            if divergence < bestDivergence {
                bestDivergence = divergence
                bestBins = i
            }
        }
        return Double(bestBins) * binWidth
    }

    /// KL(P || Q) of the first `count` entries after smoothing (zeros → eps = 1e-4, the
    /// same mass taken evenly from the non-zero entries) and normalizing. Nil when either
    /// is all zeros or smoothing would make an entry non-positive.
    static func smoothedKLDivergence(_ p: [Double], _ q: [Double], count: Int) -> Double? {
        guard let ps = smoothed(p, count), let qs = smoothed(q, count) else { return nil }
        var pSum = 0.0, qSum = 0.0
        for j in 0..<count {
            pSum += ps[j]
            qSum += qs[j]
        }
        var divergence = 0.0
        for j in 0..<count {
            let pj = ps[j] / pSum
            divergence += pj * Foundation.log(pj / (qs[j] / qSum))
        }
        return divergence
    }

    private static func smoothed(_ values: [Double], _ count: Int) -> [Double]? {
        let eps = 1e-4
        var zeros = 0
        for j in 0..<count where values[j] == 0 { zeros += 1 }
        let nonZeros = count - zeros
        guard nonZeros > 0 else { return nil }
        let take = eps * Double(zeros) / Double(nonZeros)
        var result = [Double](repeating: eps, count: count)
        for j in 0..<count where values[j] != 0 {
            result[j] = values[j] - take
            if result[j] <= 0 { return nil }
        }
        return result
    }

    // MARK: MSE

    /// The `[lo, hi]` minimizing the expected squared error of quantizing the histogram
    /// to 256 levels over `[lo, hi]`:
    ///
    ///     E(lo, hi) = Σ_{bins below lo} n (c - lo)² + Σ_{bins above hi} n (c - hi)²
    ///               + n_inside * ((hi - lo) / 255)² / 12
    ///
    /// with `c` the bin centres. Candidates: `lo` is `min(min, 0)` or a bin edge in
    /// `(min, 0]`; `hi` is `max(max, 0)` or a bin edge in `(0, max)`. Exhaustive over all
    /// pairs (prefix sums make each pair O(1)); the first minimum in (lo, hi) order wins.
    public func mseRange() -> (lo: Double, hi: Double) {
        let w = binWidth
        // Prefix sums over bins < k, in coordinates relative to zero.
        var n = [Double](repeating: 0, count: binCount + 1)
        var s1 = n, s2 = n
        for i in 0..<binCount {
            let c = edge(i) + w / 2
            let k = Double(counts[i])
            n[i + 1] = n[i] + k
            s1[i + 1] = s1[i] + k * c
            s2[i + 1] = s2[i] + k * c * c
        }
        let end = binCount
        var lows: [(value: Double, clipped: Int)] = [(Double(Swift.min(min, 0)), 0)]
        for L in 1..<binCount {
            let e = edge(L)
            if e > Double(min) && e <= 0 { lows.append((e, L)) }
        }
        var highs: [(value: Double, firstClipped: Int)] = [(Double(Swift.max(max, 0)), end)]
        for H in stride(from: binCount - 1, through: 1, by: -1) {
            let e = edge(H)
            if e > 0 && e < Double(max) { highs.append((e, H)) }
        }
        var best = (error: Double.infinity, lo: Double(min), hi: Double(max))
        for low in lows {
            let L = low.clipped, lo = low.value
            let below = s2[L] - 2 * lo * s1[L] + lo * lo * n[L]
            for high in highs {
                let H = high.firstClipped, hi = high.value
                let above = (s2[end] - s2[H]) - 2 * hi * (s1[end] - s1[H]) + hi * hi * (n[end] - n[H])
                let step = (hi - lo) / 255
                let error = below + above + (n[H] - n[L]) * step * step / 12
                if error < best.error { best = (error, lo, hi) }
            }
        }
        return (best.lo, best.hi)
    }
}
