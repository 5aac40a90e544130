import XCTest
@testable import QuantaKernels

final class Int8PoolingTests: XCTestCase {
    func averagePool(_ input: [Int8], _ s: TensorShape, _ p: PoolParameters, clampMin: Int32 = -128, clampMax: Int32 = 127) -> [Int8] {
        let os = p.outputShape(input: s)
        var out = [Int8](repeating: 0, count: os.elementCount)
        Int8Reference.averagePool(input: input, inputShape: s, output: &out, outputShape: os, parameters: p, clampMin: clampMin, clampMax: clampMax)
        return out
    }

    func maxPool(_ input: [Int8], _ s: TensorShape, _ p: PoolParameters, clampMin: Int32 = -128, clampMax: Int32 = 127) -> [Int8] {
        let os = p.outputShape(input: s)
        var out = [Int8](repeating: 0, count: os.elementCount)
        Int8Reference.maxPool(input: input, inputShape: s, output: &out, outputShape: os, parameters: p, clampMin: clampMin, clampMax: clampMax)
        return out
    }

    /// `VectorPool.maxPool` (NEON on ARM, 16-lane SIMD compares elsewhere, the reference for
    /// fewer than 16 channels) gives the reference's bytes: random shapes, channel counts
    /// around the 16-wide blocks (a last partial block), windows cut by asymmetric padding,
    /// strides 1–3, and clamps inside int8.
    func testVectorMaxPoolEqualsTheReference() {
        var rng = SplitMix64(seed: 41)
        for trial in 0..<80 {
            let c = [3, 15, 16, 17, 24, 31, 32, 48, 116][trial % 9]
            let kh = 1 + trial % 3, kw = 1 + (trial / 3) % 3
            let p = PoolParameters(kernelH: kh, kernelW: kw, strideH: 1 + trial % 3, strideW: 1 + (trial / 2) % 3,
                                   padding: Padding(top: trial % kh, left: (trial / 4) % kw, bottom: (trial / 5) % kh, right: (trial / 7) % kw))
            let s = TensorShape(n: 1 + trial % 2, h: 2 + trial % 7, w: 3 + trial % 6, c: c)
            let os = p.outputShape(input: s)
            guard os.h >= 1, os.w >= 1 else { continue }
            let input = (0..<s.elementCount).map { _ in Int8(truncatingIfNeeded: rng.next()) }
            let (lo, hi): (Int32, Int32) = trial % 3 == 0 ? (-128, 127) : trial % 3 == 1 ? (-20, 90) : (5, 5)
            var got = [Int8](repeating: 0, count: os.elementCount)
            input.withUnsafeBufferPointer { x in
                got.withUnsafeMutableBufferPointer {
                    VectorPool.maxPool(input: x.baseAddress!, inputShape: s, output: $0.baseAddress!, outputShape: os, parameters: p,
                                       clampMin: lo, clampMax: hi)
                }
            }
            XCTAssertEqual(got, maxPool(input, s, p, clampMin: lo, clampMax: hi), "trial \(trial): \(s) \(p)")
        }
    }

    /// `VectorPool.averagePool` (C, every target) gives the reference's bytes: random shapes,
    /// channel counts around its 64-channel chunks, windows cut by asymmetric padding (the
    /// count excludes them), strides 1–3, ties of the rounding (small windows of equal
    /// values), clamps inside int8.
    func testVectorAveragePoolEqualsTheReference() {
        var rng = SplitMix64(seed: 43)
        for trial in 0..<80 {
            let c = [1, 3, 15, 16, 63, 64, 65, 130][trial % 8]
            let kh = 1 + trial % 4, kw = 1 + (trial / 4) % 4
            let p = PoolParameters(kernelH: kh, kernelW: kw, strideH: 1 + trial % 3, strideW: 1 + (trial / 2) % 3,
                                   padding: Padding(top: trial % kh, left: (trial / 3) % kw, bottom: (trial / 5) % kh, right: (trial / 7) % kw))
            let s = TensorShape(n: 1 + trial % 2, h: 2 + trial % 7, w: 3 + trial % 6, c: c)
            let os = p.outputShape(input: s)
            guard os.h >= 1, os.w >= 1 else { continue }
            // Every fourth trial: values in -3...3 (many exact halves), else the whole range.
            let input = (0..<s.elementCount).map { _ -> Int8 in
                let r = rng.next()
                return trial % 4 == 0 ? Int8(Int(r % 7) - 3) : Int8(truncatingIfNeeded: r)
            }
            let (lo, hi): (Int32, Int32) = trial % 3 == 0 ? (-128, 127) : trial % 3 == 1 ? (-20, 90) : (5, 5)
            var got = [Int8](repeating: 0, count: os.elementCount)
            input.withUnsafeBufferPointer { x in
                got.withUnsafeMutableBufferPointer {
                    VectorPool.averagePool(input: x.baseAddress!, inputShape: s, output: $0.baseAddress!, outputShape: os, parameters: p,
                                           clampMin: lo, clampMax: hi)
                }
            }
            XCTAssertEqual(got, averagePool(input, s, p, clampMin: lo, clampMax: hi), "trial \(trial): \(s) \(p)")
        }
    }

    func testAverageRoundsHalfAwayFromZeroAndExcludesPadding() {
        // 2×2 input, 3×3 window, padding 1, stride 1: every window covers all 4 inputs, the
        // count is 4 (not 9). [1, 2, 3, 4]: 10/4 = 2.5 → 3. [-1, -2, -3, -4]: -2.5 → -3.
        // [1, 2, 3, 5]: 11/4 = 2.75 → 3. [-1, 0, 0, -2]: -0.75 → -1. [1, 0, 0, 0]: 0.25 → 0.
        let s = TensorShape(h: 2, w: 2, c: 1)
        let p = PoolParameters(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .uniform(1))
        XCTAssertEqual(averagePool([1, 2, 3, 4], s, p), [3, 3, 3, 3])
        XCTAssertEqual(averagePool([-1, -2, -3, -4], s, p), [-3, -3, -3, -3])
        XCTAssertEqual(averagePool([1, 2, 3, 5], s, p), [3, 3, 3, 3])
        XCTAssertEqual(averagePool([-1, 0, 0, -2], s, p), [-1, -1, -1, -1])
        XCTAssertEqual(averagePool([1, 0, 0, 0], s, p), [0, 0, 0, 0])
    }

    func testAverageCornerWindowCountsOnlyInsidePixels() {
        // 3×3 input 1..9, 2×2 window, stride 2, padding bottom/right 1 (TF "SAME"): windows
        // {1,2,4,5} → 3, {3,6} → 4.5 → 5, {7,8} → 7.5 → 8, {9} → 9.
        let s = TensorShape(h: 3, w: 3, c: 1)
        let p = PoolParameters(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        XCTAssertEqual(averagePool([1, 2, 3, 4, 5, 6, 7, 8, 9], s, p), [3, 5, 8, 9])
    }

    func testAverageMatchesRoundedMeanOfRandomWindows() {
        var g = SplitMix64(seed: 41)
        let s = TensorShape(n: 2, h: 7, w: 6, c: 3)
        let p = PoolParameters(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padding: Padding(top: 1, left: 0, bottom: 1, right: 1))
        let input = Int8TestData.int8s(s.elementCount, &g)
        let os = p.outputShape(input: s)
        let out = averagePool(input, s, p, clampMin: -60, clampMax: 90)
        for b in 0..<os.n { for y in 0..<os.h { for x in 0..<os.w { for c in 0..<os.c {
            var values = [Double]()
            for ky in 0..<p.kernelH { for kx in 0..<p.kernelW {
                let iy = y * p.strideH - p.padding.top + ky, ix = x * p.strideW - p.padding.left + kx
                if iy >= 0, iy < s.h, ix >= 0, ix < s.w { values.append(Double(input[s.index(b, iy, ix, c)])) }
            } }
            let mean = (values.reduce(0, +) / Double(values.count)).rounded(.toNearestOrAwayFromZero)
            XCTAssertEqual(Double(out[os.index(b, y, x, c)]), min(max(mean, -60), 90))
        } } } }
    }

    func testMaxIgnoresPaddingAndClamps() {
        // All-negative input: padding (which would be 0, or the zero point) never wins.
        let s = TensorShape(h: 2, w: 2, c: 2)
        let p = PoolParameters(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .uniform(1))
        let input: [Int8] = [-100, -5, -90, -6, -80, -7, -70, -128]
        XCTAssertEqual(maxPool(input, s, p), [-70, -5, -70, -5, -70, -5, -70, -5])
        XCTAssertEqual(maxPool(input, s, p, clampMin: -60, clampMax: -6), [-60, -6, -60, -6, -60, -6, -60, -6])
    }

    func testMaxMatchesWindowMaximum() {
        var g = SplitMix64(seed: 42)
        let s = TensorShape(n: 1, h: 6, w: 7, c: 4)
        let p = PoolParameters(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padding: Padding(top: 1, left: 1, bottom: 1, right: 1))
        let input = Int8TestData.int8s(s.elementCount, &g)
        let os = p.outputShape(input: s)
        let out = maxPool(input, s, p)
        for y in 0..<os.h { for x in 0..<os.w { for c in 0..<os.c {
            var m = Int8.min
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = y * 2 - 1 + ky, ix = x * 2 - 1 + kx
                if iy >= 0, iy < s.h, ix >= 0, ix < s.w { m = max(m, input[s.index(0, iy, ix, c)]) }
            } }
            XCTAssertEqual(out[os.index(0, y, x, c)], m)
        } } }
    }

    func testGlobalAverageMatchesTFLiteMeanFormula() {
        // Same scale in and out (multiplier 1 = (2^30, 1)): TFLite's Mean gives the rounded
        // (half away from zero) mean of q - zpIn, plus zpOut. Channel 0: 1..6 - 0 → 21/6 = 3.5 → 4;
        // channel 1: -1..-6 → -3.5 → -4; zpOut 10.
        let s = TensorShape(h: 2, w: 3, c: 2)
        let input: [Int8] = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6]
        var out = [Int8](repeating: 0, count: 2)
        Int8Reference.globalAveragePool(input: input, inputShape: s, inputZeroPoint: 0, output: &out, outputZeroPoint: 10, multiplier: 1 << 30, shift: 1)
        XCTAssertEqual(out, [14, 6])
    }

    func testGlobalAverageIsWithinOneUnitOfFloatMean() {
        var g = SplitMix64(seed: 43)
        let s = TensorShape(n: 2, h: 7, w: 7, c: 8)
        let qin = QuantizationParameters(scale: 0.05, zeroPoint: -20)
        let qout = QuantizationParameters(scale: 0.02, zeroPoint: 5)
        let (m, sh) = FixedPoint.quantizeMultiplier(Double(qin.scale) / Double(qout.scale))
        let input = Int8TestData.int8s(s.elementCount, &g, in: -60...40)
        var out = [Int8](repeating: 0, count: s.n * s.c)
        Int8Reference.globalAveragePool(input: input, inputShape: s, inputZeroPoint: qin.zeroPoint, output: &out, outputZeroPoint: qout.zeroPoint, multiplier: m, shift: sh)
        var distinct = Set<Int8>()
        for b in 0..<s.n { for c in 0..<s.c {
            var sum: Float = 0
            for y in 0..<s.h { for x in 0..<s.w { sum += Quantizer.dequantize(input[s.index(b, y, x, c)], qin) } }
            let expected = Quantizer.quantize(sum / Float(s.h * s.w), qout)
            XCTAssertLessThanOrEqual(abs(Int(out[b * s.c + c]) - Int(expected)), 1)
            distinct.insert(out[b * s.c + c])
        } }
        XCTAssertGreaterThan(distinct.count, 4)
    }
}
