import Foundation
import QuantaKernels

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

    /// The histogram of |x| without the exact zeros: folded bin `j` counts the non-zero
    /// values with |x| in `[j, j+1) * binWidth` (up to the half-open side at zero), trimmed
    /// after the last non-empty bin.
    func foldedHistogram() -> [Double] {
        let length = Swift.max(firstBin + binCount, -firstBin, 0)
        var folded = [Double](repeating: 0, count: length)
        for i in 0..<binCount where counts[i] != 0 {
            let a = firstBin + i
            folded[a >= 0 ? a : -a - 1] += Double(counts[i])
        }
        if !folded.isEmpty { folded[0] -= Double(zeroCount) }
        let used = (folded.lastIndex(where: { $0 != 0 }) ?? -1) + 1
        return Array(folded[0..<used])
    }

    /// TensorRT's entropy calibration on the |x| histogram (as in MXNet and ONNX Runtime),
    /// leaving out the exact zeros: they are quantized without error (zero is always
    /// representable), and the spike of a ReLU output at 0 would otherwise dominate the
    /// divergence of every candidate that merges bins (pytorch-quantization sets
    /// `bins[0] = bins[1]` for the same reason):
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
        guard !folded.isEmpty else { return 0 }
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
    /// with `Quantizer.chooseParameters(min: lo, max: hi)` (see `expectedSquaredError`).
    ///
    /// Search (deterministic coordinate descent, two rounds): with `lo` fixed, `hi` is
    /// chosen among 128 evenly spaced values in `(0, max]` and then among 64 values
    /// between the two coarse neighbours of the best; then `lo` likewise in `[min, 0)`
    /// with `hi` fixed (skipped for non-negative data). Starts from `[min(min,0), max(max,0)]`;
    /// on ties the earlier candidate (the larger range) wins.
    public func mseRange() -> (lo: Double, hi: Double) {
        let bins = occupiedBins()
        var lo = Double(Swift.min(min, 0)), hi = Double(Swift.max(max, 0))
        var best = expectedSquaredError(lo: lo, hi: hi, bins: bins)
        func search(_ limit: Double, _ evaluate: (Double) -> Double) -> (value: Double, error: Double)? {
            guard limit != 0 else { return nil }
            var bestValue = limit, bestError = evaluate(limit)
            let coarse = 128, fine = 64
            var bestK = coarse
            for k in stride(from: coarse - 1, through: 1, by: -1) {
                let v = limit * Double(k) / Double(coarse)
                let e = evaluate(v)
                if e < bestError { (bestValue, bestError, bestK) = (v, e, k) }
            }
            let from = limit * Double(bestK - 1) / Double(coarse)
            let to = limit * Double(Swift.min(bestK + 1, coarse)) / Double(coarse)
            for k in 1..<fine {
                let v = from + (to - from) * Double(k) / Double(fine)
                guard v != 0 else { continue }
                let e = evaluate(v)
                if e < bestError { (bestValue, bestError) = (v, e) }
            }
            return (bestValue, bestError)
        }
        for _ in 0..<2 {
            if let r = search(Double(Swift.max(max, 0)), { expectedSquaredError(lo: lo, hi: $0, bins: bins) }), r.error < best {
                (hi, best) = (r.value, r.error)
            }
            if let r = search(Double(Swift.min(min, 0)), { expectedSquaredError(lo: $0, hi: hi, bins: bins) }), r.error < best {
                (lo, best) = (r.value, r.error)
            }
        }
        return (lo, hi)
    }

    /// The non-empty bins as `(a, b, count)`: the value interval of each bin intersected
    /// with `[min, max]`; the exact zeros are a point mass `(0, 0, zeroCount)` of their own.
    func occupiedBins() -> [(a: Double, b: Double, count: Double)] {
        var result: [(a: Double, b: Double, count: Double)] = []
        if zeroCount > 0 { result.append((0, 0, Double(zeroCount))) }
        for i in 0..<binCount where counts[i] != 0 {
            let n = counts[i] - (firstBin + i == 0 ? zeroCount : 0)
            guard n > 0 else { continue }
            let a = Swift.max(edge(i), Double(min)), b = Swift.min(edge(i + 1), Double(max))
            result.append((a, Swift.max(a, b), Double(n)))
        }
        return result
    }

    /// The expected squared error of quantizing the histogram with
    /// `chooseParameters(min: lo, max: hi)` (scale `s`, zero point `z`): values are taken
    /// as uniform within each bin; below `(−128 − z)·s` and above `(127 − z)·s` the error is
    /// the distance to that end, in between the distance to the nearest multiple of `s`
    /// (offset by the zero point), integrated exactly.
    func expectedSquaredError(lo: Double, hi: Double, bins: [(a: Double, b: Double, count: Double)]) -> Double {
        let q = Quantizer.chooseParameters(min: Float(lo), max: Float(hi))
        let s = Double(q.scale)
        let qlo = Double(-128 - q.zeroPoint) * s, qhi = Double(127 - q.zeroPoint) * s
        /// ∫_0^u (t - round(t))² dt, in units of the step.
        func sawtooth(_ u: Double) -> Double {
            let k = (u + 0.5).rounded(.down)
            let r = u - k
            return k / 12 + (r * r * r + 0.125) / 3 - 1.0 / 24
        }
        /// ∫_a^b (x - Q(x))² dx for a <= b.
        func integral(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            if a < qlo {
                let e = Swift.min(b, qlo)
                total += ((qlo - a) * (qlo - a) * (qlo - a) - (qlo - e) * (qlo - e) * (qlo - e)) / 3
            }
            if b > qhi {
                let e = Swift.max(a, qhi)
                total += ((b - qhi) * (b - qhi) * (b - qhi) - (e - qhi) * (e - qhi) * (e - qhi)) / 3
            }
            let ia = Swift.max(a, qlo), ib = Swift.min(b, qhi)
            if ib > ia {
                total += s * s * s * (sawtooth((ib - qlo) / s) - sawtooth((ia - qlo) / s))
            }
            return total
        }
        var error = 0.0
        for bin in bins {
            if bin.b > bin.a {
                error += bin.count * integral(bin.a, bin.b) / (bin.b - bin.a)
            } else {
                let x = bin.a
                let clamped = Swift.min(Swift.max(x, qlo), qhi)
                let d = clamped - (qlo + ((clamped - qlo) / s).rounded(.toNearestOrAwayFromZero) * s)
                let e = x - clamped + d
                error += bin.count * e * e
            }
        }
        return error
    }
}
