import CQuantaHost
import Foundation
import QuantaKernels
import XCTest
@testable import QuantaCompiler


/// Mean squared error of quantizing `values` to int8 with the parameters chosen for `range`.
private func quantizationMSE(_ values: [Float], _ range: ClosedRange<Float>) -> Double {
    let q = Quantizer.chooseParameters(min: range.lowerBound, max: range.upperBound)
    var sum = 0.0
    for x in values {
        let e = Double(Quantizer.dequantize(Quantizer.quantize(x, q), q)) - Double(x)
        sum += e * e
    }
    return sum / Double(values.count)
}

final class CalibrationTests: XCTestCase {
    private let histogramMethods: [CalibrationMethod] = [.percentile(99.99), .entropy, .mse]

    func testMinMaxOfUniformDataIsTheDataRange() {
        var random = TestRandom(seed: 1)
        var stats = TensorStatistics()
        let values = [-2] + (0..<5000).map { _ in random.uniform(-2, 3) } + [3]
        stats.observe(values)
        XCTAssertEqual(stats.range(.minmax), -2...3)
        XCTAssertEqual(stats.range(.percentile(100)), -2...3, "percentile 100 clips nothing")
    }

    func testHistogramHoldsEveryFiniteValueAfterGrowing() {
        var random = TestRandom(seed: 2)
        var stats = TensorStatistics()
        var all: [Float] = []
        for scale in [Float(0.5), 1, 8, 3, 100, -40] {
            let batch = (0..<997).map { _ in random.uniform(-1, 1) * scale + scale / 2 }
            all += batch
            stats.observe(batch)
        }
        XCTAssertEqual(stats.count, all.count)
        XCTAssertEqual(stats.counts.reduce(0, +), all.count)
        XCTAssertEqual(stats.min, all.min())
        XCTAssertEqual(stats.max, all.max())
    }

    /// Found by Tools/fuzz-onnx-structure: a tensor first seen in a tiny range, then at the
    /// float extremes, made the bin arithmetic overflow `Int` (a trap in calibration).
    /// Every value is still counted, and the range is the data's.
    func testHistogramSurvivesTinyThenExtremeValues() {
        var stats = TensorStatistics()
        stats.observe([1e-30, 2e-30, 0])
        stats.observe([3.4e38, -3.4e38, 1])
        stats.observe([-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude, .nan, .infinity])
        XCTAssertEqual(stats.count, 8)
        XCTAssertEqual(stats.counts.reduce(0, +), 8)
        XCTAssertEqual(stats.min, -Float.greatestFiniteMagnitude)
        XCTAssertEqual(stats.max, Float.greatestFiniteMagnitude)
    }

    func testGrowingRebinsExactlyAsIfBinnedAtTheFinalWidth() {
        var random = TestRandom(seed: 3)
        var stats = TensorStatistics(binCount: 256)
        var all: [Float] = []
        for (lo, hi) in [(Float(0), Float(1)), (-0.3, 1.2), (-5, 2), (-5, 40), (-100, 3)] {
            let batch = (0..<500).map { _ in random.uniform(lo, hi) }
            all += batch
            stats.observe(batch)
        }
        XCTAssertGreaterThan(stats.binWidth, 1.0 / 254, "the width must have grown")
        var expected = [Int](repeating: 0, count: stats.binCount)
        for x in all {
            expected[Int((Double(x) / stats.binWidth).rounded(.down)) - stats.firstBin] += 1
        }
        XCTAssertEqual(stats.counts, expected)
    }

    func testWindowMovesInsteadOfCoarseningWhileTheSpanFits() {
        var stats = TensorStatistics(binCount: 256)
        stats.observe([-1, 0.5, 1])  // width 2/254: the window is full
        stats.observe([-1.5])  // [-1.5, 1] needs 318 bins: width doubles, 159 bins used, centred
        let width = stats.binWidth
        XCTAssertEqual(width, 4.0 / 254)
        let first = stats.firstBin
        XCTAssertLessThan(Double(first + 256) * width, 2, "the window ends below 2")
        stats.observe([2])  // beyond the window, but [-1.5, 2] spans 223 bins: the window moves
        XCTAssertEqual(stats.binWidth, width)
        XCTAssertGreaterThan(stats.firstBin, first)
        XCTAssertEqual(stats.counts.reduce(0, +), 5)
        stats.observe([-4])  // [-4, 2] needs 381 bins
        XCTAssertEqual(stats.binWidth, 2 * width)
        XCTAssertEqual(stats.counts.reduce(0, +), 6)
    }

    func testExactZerosAreCountedAndLeftOutOfTheEntropyHistogram() {
        var random = TestRandom(seed: 10)
        var stats = TensorStatistics()
        // A ReLU output: 70% exact zeros, the rest half-normal.
        stats.observe((0..<50_000).map { _ in random.unit() < 0.7 ? 0 : abs(random.gaussian()) })
        XCTAssertGreaterThan(stats.zeroCount, 34_000)
        XCTAssertEqual(stats.foldedHistogram().reduce(0, +), Double(stats.count - stats.zeroCount))
        XCTAssertGreaterThan(stats.range(.entropy).upperBound, 2.5, "the zero spike does not pull the threshold down")
    }

    func testZerosSeenBeforeTheFirstNonZeroValueAreKept() {
        var stats = TensorStatistics()
        stats.observe([0, 0, 0])
        XCTAssertTrue(stats.counts.isEmpty)
        XCTAssertEqual(stats.range(.entropy), 0...0)
        stats.observe([1, 2])
        XCTAssertEqual(stats.counts[-stats.firstBin], 3)
        XCTAssertEqual(stats.counts.reduce(0, +), 5)
    }

    func testNonFiniteValuesAreCountedApartAndIgnored() {
        var stats = TensorStatistics()
        stats.observe([1, .nan, -.infinity, 2, .infinity])
        XCTAssertEqual(stats.count, 2)
        XCTAssertEqual(stats.nonFiniteCount, 3)
        XCTAssertEqual(stats.range(.minmax), 1...2)
    }

    func testSingleHugeOutlierIsClippedByHistogramMethodsButNotByMinMax() {
        var random = TestRandom(seed: 4)
        var stats = TensorStatistics()
        var values = (0..<40000).map { _ in random.uniform(-1, 1) }
        values.insert(1000, at: 20000)
        stats.observe(values)
        XCTAssertEqual(stats.range(.minmax).upperBound, 1000)
        let percentile = stats.range(.percentile(99.99))
        XCTAssertLessThanOrEqual(percentile.upperBound, Float(1 + stats.binWidth), "clipped to the bulk at bin resolution")
        XCTAssertGreaterThanOrEqual(percentile.upperBound, 0.99)
        XCTAssertLessThan(stats.range(.entropy).upperBound, 250)
        XCTAssertLessThan(stats.range(.mse).upperBound, 1000)
        XCTAssertLessThan(quantizationMSE(values, stats.range(.mse)), quantizationMSE(values, stats.range(.minmax)))
        for method in histogramMethods {
            XCTAssertGreaterThanOrEqual(stats.range(method).lowerBound, -1, "\(method) stays within the data")
        }
    }

    func testPercentileCutsTheRequestedShareOffEachEnd() {
        var stats = TensorStatistics()
        stats.observe((1...10000).map { Float($0) })
        // 1% in total: 50 values off each end.
        let range = stats.range(.percentile(99))
        XCTAssertEqual(Double(range.upperBound), 9950, accuracy: stats.binWidth)
        XCTAssertEqual(Double(range.lowerBound), 51, accuracy: stats.binWidth)
        let below = (1...10000).filter { Float($0) < range.lowerBound }.count
        let above = (1...10000).filter { Float($0) > range.upperBound }.count
        XCTAssertLessThanOrEqual(below, 50)
        XCTAssertLessThanOrEqual(above, 50)
    }

    func testPercentileOfNonNegativeDataStartsAtZero() {
        var random = TestRandom(seed: 5)
        var stats = TensorStatistics()
        stats.observe((0..<20000).map { _ in max(0, random.gaussian()) })
        XCTAssertEqual(stats.range(.percentile(99.99)).lowerBound, 0)
        XCTAssertEqual(stats.range(.entropy).lowerBound, 0)
        XCTAssertEqual(stats.range(.mse).lowerBound, 0)
    }

    func testEntropyOnGaussianClipsTheTailsButKeepsTheBulk() {
        var random = TestRandom(seed: 6)
        var stats = TensorStatistics()
        stats.observe((0..<100_000).map { _ in random.gaussian() })
        let range = stats.range(.entropy)
        XCTAssertLessThan(range.upperBound, stats.max, "a 100k-sample gaussian tail is clipped")
        XCTAssertGreaterThan(range.upperBound, 2.5, "the bulk (±2.5σ) is kept")
        XCTAssertEqual(range.lowerBound, max(stats.min, -range.upperBound), "one threshold on |x|, within the data")
    }

    func testMseRangeHasLowerErrorThanMinMaxOnHeavyTails() {
        var random = TestRandom(seed: 7)
        var stats = TensorStatistics()
        let values = (0..<50_000).map { _ in random.laplace() }
        stats.observe(values)
        let mse = stats.range(.mse)
        XCTAssertLessThan(mse.upperBound, stats.max)
        XCTAssertGreaterThan(mse.lowerBound, stats.min)
        XCTAssertLessThan(quantizationMSE(values, mse), 0.9 * quantizationMSE(values, stats.range(.minmax)))
    }

    func testExpectedSquaredErrorMatchesTheMeasuredQuantizationError() {
        var random = TestRandom(seed: 9)
        var stats = TensorStatistics()
        let values = (0..<50_000).map { _ in random.laplace() }
        stats.observe(values)
        let bins = stats.occupiedBins()
        for range in [stats.range(.minmax), stats.range(.mse), Float(-3)...Float(2), Float(-0.5)...Float(7)] {
            let predicted = stats.expectedSquaredError(lo: Double(range.lowerBound), hi: Double(range.upperBound), bins: bins) / Double(values.count)
            XCTAssertEqual(predicted, quantizationMSE(values, range), accuracy: 0.02 * predicted, "\(range)")
        }
    }

    func testSameValuesInSameOrderGiveIdenticalStatisticsAndRanges() {
        func run() -> TensorStatistics {
            var random = TestRandom(seed: 8)
            var stats = TensorStatistics()
            for k in 1...5 { stats.observe((0..<3000).map { _ in random.gaussian() * Float(k) }) }
            return stats
        }
        let a = run(), b = run()
        XCTAssertEqual(a, b)
        for method in [CalibrationMethod.minmax] + histogramMethods {
            XCTAssertEqual(a.range(method), b.range(method), "\(method)")
        }
    }

    func testMethodNamesParse() {
        XCTAssertEqual(CalibrationMethod(name: "minmax"), .minmax)
        XCTAssertEqual(CalibrationMethod(name: "percentile"), .percentile(99.99))
        XCTAssertEqual(CalibrationMethod(name: "percentile", percentile: 99.9), .percentile(99.9))
        XCTAssertEqual(CalibrationMethod(name: "entropy"), .entropy)
        XCTAssertEqual(CalibrationMethod(name: "MSE"), .mse)
        XCTAssertNil(CalibrationMethod(name: "kmeans"))
    }
}

/// `TensorStatistics.observe` (the C loops of CQuantaHost: vector summary, one pass while
/// the window holds the data, a second for the values outside) against its value-by-value
/// definition `observeReference`, field by field and bit for bit.
final class StatisticsLoopTests: XCTestCase {
    func testObserveEqualsItsValueByValueDefinition() {
        var random = TestRandom(seed: 77)
        for trial in 0..<60 {
            var fast = TensorStatistics(binCount: trial % 3 == 0 ? 256 : 2048), slow = fast
            var scale: Float = [1e-3, 1, 50, 3e4][trial % 4]
            for sample in 0..<12 {
                let n = [1, 7, 63, 64, 65, 200, 1000, 4099][(trial + sample) % 8]
                var values = (0..<n).map { _ in random.uniform(-1, 1) * scale }
                switch (trial + 3 * sample) % 7 {
                case 0: for i in values.indices where i % 2 == 0 { values[i] = 0 }  // ReLU-like zeros
                case 1: for i in values.indices where i % 3 == 0 { values[i] = i % 6 == 0 ? -0.0 : 0 }
                case 2: if n > 3 { values[n / 2] = .nan; values[n / 3] = -.infinity }
                case 3: values = values.map { Swift.max($0, 0) }  // a ReLU output
                case 4: values = values.map { Swift.min(Swift.max($0, 0), 6 * scale / 10) }  // ReLU6's runs
                case 5: if n > 1 { values[0] = Float.greatestFiniteMagnitude / 2 }
                default: break
                }
                if sample % 4 == 3 { scale *= 8 }  // the window grows
                let a = values.withUnsafeBufferPointer { fast.observe($0) }
                let b = values.withUnsafeBufferPointer { slow.observeReference($0) }
                XCTAssertEqual(a.bitPattern, b.bitPattern, "magnitude, trial \(trial) sample \(sample)")
                XCTAssertEqual(fast.min.bitPattern, slow.min.bitPattern, "min, trial \(trial) sample \(sample)")
                XCTAssertEqual(fast.max.bitPattern, slow.max.bitPattern, "max, trial \(trial) sample \(sample)")
                XCTAssertEqual(fast, slow, "trial \(trial) sample \(sample)")
            }
        }
    }

    /// A minimum of 0 keeps the sign of the first zero seen, as `min` value by value does.
    func testSignOfAZeroMinimumIsTheFirstZeros() {
        for first: Float in [0, -0.0] {
            var values = [Float](repeating: 1, count: 130)
            values[70] = first
            values[5] = 2
            values[100] = first == 0 ? -0.0 : 0
            var fast = TensorStatistics(), slow = fast
            values.withUnsafeBufferPointer { _ = fast.observe($0); _ = slow.observeReference($0) }
            XCTAssertEqual(fast.min.bitPattern, first.bitPattern)
            XCTAssertEqual(fast, slow)
        }
    }
}

/// `quanta eval`'s per-layer sums in C (`quanta_agreement_int8`: dequantized as
/// `Quantizer.dequantize`, four interleaved lanes) agree with the value-by-value
/// accumulator to rounding, on lengths around the 4-lane blocks.
final class AgreementSumsTests: XCTestCase {
    func testInt8SumsAgreeWithTheValueByValueAccumulator() {
        var random = TestRandom(seed: 5)
        for n in [1, 3, 4, 5, 17, 1000, 4099] {
            let q = QuantizationParameters(scale: 0.0173, zeroPoint: -7)
            let int8 = (0..<n).map { _ in Int8(truncatingIfNeeded: Int(random.uniform(-128, 128))) }
            let reference = int8.map { Quantizer.dequantize($0, q) + random.uniform(-0.02, 0.02) }
            var serial = AgreementAccumulator(), summed = AgreementAccumulator()
            serial.add(reference: reference, approximation: int8.map { Quantizer.dequantize($0, q) })
            let sums = reference.withUnsafeBufferPointer { r in
                int8.withUnsafeBufferPointer { quanta_agreement_int8(r.baseAddress, $0.baseAddress, n, q.scale, q.zeroPoint) }
            }
            summed.add(sums: sums)
            let a = serial.result, b = summed.result
            XCTAssertEqual(a.elementCount, b.elementCount)
            XCTAssertEqual(a.maxAbsError, b.maxAbsError, "the maximum is exact")
            XCTAssertEqual(a.sqnr, b.sqnr, accuracy: 1e-9 * abs(a.sqnr), "n \(n)")
            XCTAssertEqual(a.cosine, b.cosine, accuracy: 1e-12, "n \(n)")
            // Σ|error| and the values beyond the grid by more than half a step.
            var absError = 0.0, clipped = 0
            let lo = Double(q.scale) * (-128.5 - Double(q.zeroPoint)), hi = Double(q.scale) * (127.5 - Double(q.zeroPoint))
            for i in 0..<n {
                absError += abs(Double(reference[i]) - Double(Quantizer.dequantize(int8[i], q)))
                if Double(reference[i]) < lo || Double(reference[i]) > hi { clipped += 1 }
            }
            XCTAssertEqual(sums.abs_error, absError, accuracy: 1e-9 * max(1, absError))
            XCTAssertEqual(sums.clipped, clipped)
            XCTAssertEqual(summed.meanAbsError, absError / Double(n), accuracy: 1e-9)
        }
        // Values far outside the grid count as clipped.
        let q = QuantizationParameters(scale: 0.5, zeroPoint: 0)
        let reference: [Float] = [-64.25, -64.3, 63.74, 63.76, 0, 1000]
        let int8: [Int8] = [-128, -128, 127, 127, 0, 127]
        let sums = reference.withUnsafeBufferPointer { r in
            int8.withUnsafeBufferPointer { quanta_agreement_int8(r.baseAddress, $0.baseAddress, 6, q.scale, q.zeroPoint) }
        }
        XCTAssertEqual(sums.clipped, 3, "-64.3, 63.76 and 1000 lie beyond [-64.25, 63.75]")
    }
}
