import XCTest
@testable import QuantaKernels
#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel
#endif

/// The depthwise 3×3 variant on the shapes the AVX2 kernel takes (at least 16 channels,
/// depth multiplier 1, strides 1 and 2; Sources/QuantaKernels/Optimized/Conv2D+Depthwise+x86_64.swift),
/// against `Int8Reference.conv2D` bit for bit. On other targets the same cases run the
/// portable kernel.
final class DepthwiseAVX2Tests: XCTestCase {
    func assertEqualsReference(_ c: ConvCase, file: StaticString = #filePath, line: UInt = #line) {
        let chosen = KernelVariant.choose(inputShape: c.inputShape, filter: c.filter, parameters: c.parameters, inputZeroPoint: c.inputZeroPoint)
        XCTAssertEqual(chosen, .depthwise3x3, c.description, file: file, line: line)
        let reference = c.reference()
        let result = c.optimized(.depthwise3x3, file: file, line: line)
        if result != reference {
            let first = result.indices.first { result[$0] != reference[$0] }!
            XCTFail("differs from reference at \(first): \(result[first]) vs \(reference[first]); \(c.description)", file: file, line: line)
        }
    }

    /// Channel counts with tails of every size past a multiple of 16 (the last block
    /// overlaps the one before), every padding from 0 to 2 on each side (outputs whose
    /// window is partly or wholly outside the input), widths from 1 (no interior column),
    /// strides 1 and 2, batches of 2.
    func testWideChannel3x3EqualsReferenceForTailsPaddingsStridesAndNarrowWidths() {
        var g = SeededGenerator(seed: 0xD3)
        for trial in 0..<120 {
            let stride = trial % 2 + 1
            let c = [16, 17, 23, 24, 31, 32, 40, 47, 72, 120][Int.random(in: 0..<10, using: &g)]
            let pad = Padding(top: Int.random(in: 0...2, using: &g), left: Int.random(in: 0...2, using: &g),
                              bottom: Int.random(in: 0...2, using: &g), right: Int.random(in: 0...2, using: &g))
            let h = Int.random(in: 1...7, using: &g), w = Int.random(in: 1...11, using: &g)
            let parameters = Conv2DParameters(strideH: stride, strideW: stride, padding: pad, groups: c)
            let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: h, w: w, c: c)
            let filter = FilterShape(outputChannels: c, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
            let out = parameters.outputShape(input: shape, filter: filter)
            guard out.h >= 1 && out.w >= 1 else { continue }
            let test = ConvCase(inputShape: shape, filter: filter, parameters: parameters,
                                perChannel: trial % 5 != 0, hasBias: trial % 7 != 0, using: &g)
            assertEqualsReference(test)
        }
    }

    /// Extreme inputs and weights (products ±16256, doubled ±32512, pairs ±65024 in int32)
    /// with the largest biases the AVX2 output stage takes, and one bias beyond it (the
    /// call falls back to the portable kernel).
    func testExtremeProductsAndBiasesAtTheOutputStageBound() {
        var g = SeededGenerator(seed: 0xD4)
        for (stride, bias) in [(1, Int32(1 << 27)), (2, Int32(1 << 27)), (1, Int32(1 << 30)), (2, -Int32(1 << 30) - 5)] {
            var test = ConvCase(inputShape: TensorShape(h: 6, w: 7, c: 33),
                                filter: FilterShape(outputChannels: 33, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: .uniform(1), groups: 33), using: &g)
            test.input = test.input.indices.map { $0 % 3 == 0 ? -128 : 127 }
            test.weights = test.weights.indices.map { ($0 / 33) % 2 == 0 ? -127 : 127 }
            test.bias = (0..<33).map { i in i == 5 ? bias : (i % 2 == 0 ? (1 << 27) : -(1 << 27)) }
            // Shifts that keep the outputs near int8 for accumulators around 2^27.
            test.shifts = test.shifts.map { _ in Int32.random(in: -22 ... -18, using: &g) }
            assertEqualsReference(test)
        }
    }

    #if arch(x86_64)
    /// The AVX2 output stage (64-bit nudge form of SRDHM + RDBPOT on doubled accumulators)
    /// against `FixedPoint.multiplyByQuantizedMultiplier`, lane by lane: every shift from
    /// -31 to 3, multipliers at 2^30 (exact ties in both roundings), with low zero bits,
    /// random, 0, negative and `Int32.max`, accumulators at the bound `|acc| · 2^left ≤ 2^29`,
    /// near zero and random.
    func testOutputStageEqualsFixedPointLaneByLane() {
        var g = SeededGenerator(seed: 0xD5)
        var acc = [Int32](), mult = [Int32](), shift = [Int32]()
        for s in Int32(-31)...3 {
            let bound = Int32(1 << 29) >> max(s, 0)
            for i in 0..<64 {
                let m: Int32
                switch i % 6 {
                case 0: m = 1 << 30
                case 1: m = (1 << 30) + Int32.random(in: 0..<1024, using: &g) << 20
                case 2: m = Int32.max
                case 3: m = i == 3 ? 0 : -Int32.random(in: 1...Int32.max, using: &g)
                default: m = Int32.random(in: (1 << 30)...Int32.max, using: &g)
                }
                let a: Int32
                switch i % 8 {
                case 0: a = bound
                case 1: a = -bound
                case 2: a = Int32.random(in: -40...40, using: &g)
                case 3: a = Int32.random(in: -bound...bound, using: &g) & ~((1 << Int32.random(in: 0...20, using: &g)) - 1)
                default: a = Int32.random(in: -bound...bound, using: &g)
                }
                acc.append(a); mult.append(m); shift.append(s)
            }
        }
        var out = [Int32](repeating: 0, count: acc.count)
        DepthwiseAVX2.roundedForTesting(accumulators: acc, multipliers: mult, shifts: shift, count: acc.count, output: &out)
        var failures = 0
        for i in acc.indices {
            let expected = FixedPoint.multiplyByQuantizedMultiplier(acc[i], mult[i], shift[i])
            if out[i] != expected && failures < 5 {
                failures += 1
                XCTFail("acc \(acc[i]) M \(mult[i]) shift \(shift[i]): \(out[i]) vs \(expected)")
            }
        }
    }

    /// The 32-bit output stage (`.short`, on doubled accumulators) equals
    /// `ShortMultiplier.rounded` lane by lane for every shift it takes, at the clamp bounds
    /// `±510·2^e`, beyond them, near zero and at the Int32-halved extremes; and the block
    /// reports the form (`hasShortForm`) only when all 8 lanes have it.
    func testShortOutputStageEqualsShortMultiplierLaneByLane() {
        var g = SeededGenerator(seed: 0xD6)
        var acc = [Int32](), mult = [Int32](), shift = [Int32]()
        for s in Int32(-21)...0 {
            let unit = Int32(1) << (9 - s)
            let bound = Int32(510) << (-s)
            for i in 0..<64 {
                mult.append(i % 5 == 0 ? 1 << 30 : Int32.random(in: (1 << 30)...Int32.max, using: &g) / unit * unit)
                shift.append(s)
                switch i % 8 {
                case 0: acc.append(bound)
                case 1: acc.append(-bound - Int32(i % 3))
                case 2: acc.append(Int32.random(in: -40...40, using: &g))
                case 3: acc.append(Bool.random(using: &g) ? (1 << 30) - 1 : -(1 << 30))
                case 4: acc.append([Int32.min, Int32.max, Int32.min + 1, -1][i % 4])
                default: acc.append(Int32.random(in: -(1 << 30)...((1 << 30) - 1), using: &g) >> Int32.random(in: 0...20, using: &g))
                }
            }
        }
        var out = [Int32](repeating: 0, count: acc.count)
        DepthwiseAVX2.roundedForTesting(accumulators: acc, multipliers: mult, shifts: shift, count: acc.count, output: &out, mode: .short)
        var failures = 0
        for i in acc.indices {
            let expected = ShortMultiplier.rounded(acc[i], multiplier: mult[i], shift: shift[i])
            if out[i] != expected && failures < 5 {
                failures += 1
                XCTFail("acc \(acc[i]) M \(mult[i]) shift \(shift[i]): \(out[i]) vs \(expected)")
            }
        }
        let m = [Int32](repeating: 1 << 30, count: 8)
        var s = [Int32](repeating: -5, count: 8)
        XCTAssertTrue(DepthwiseAVX2Output.hasShortForm(multipliers: unsafeBitCast(SIMD8<Int32>(m), to: __m256i.self), shifts: unsafeBitCast(SIMD8<Int32>(s), to: __m256i.self)))
        s[6] = -22
        XCTAssertFalse(DepthwiseAVX2Output.hasShortForm(multipliers: unsafeBitCast(SIMD8<Int32>(m), to: __m256i.self), shifts: unsafeBitCast(SIMD8<Int32>(s), to: __m256i.self)))
        var m2 = m
        m2[3] += 1 << 13
        XCTAssertFalse(DepthwiseAVX2Output.hasShortForm(multipliers: unsafeBitCast(SIMD8<Int32>(m2), to: __m256i.self), shifts: unsafeBitCast(SIMD8<Int32>(repeating: -5), to: __m256i.self)))
    }

    /// The per-call range check: a bias beyond the bound, a shift outside -31...31 or an
    /// `Int32.min` multiplier in any block (also the overlapping last one) rejects the call.
    func testOutputStageRangeCheckRejectsEachCondition() {
        let channels = 37
        var bias = [Int32](repeating: 1000, count: DepthwiseConv.paddedChannels(channels) * 1)
        var mult = [Int32](repeating: 1 << 30, count: channels)
        var shift = [Int32](repeating: -8, count: channels)
        func fits() -> Bool {
            bias.withUnsafeBytes { b in
                mult.withUnsafeBufferPointer { m in
                    shift.withUnsafeBufferPointer { s in
                        DepthwiseAVX2.fits(packed: b.baseAddress!, channels: channels, requantization: Requantization(
                            multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: channels, outputZeroPoint: 0))
                    }
                }
            }
        }
        XCTAssertTrue(fits())
        let largest = Int32((1 << 29) - 9 * 255 * 127)   // (|bias| + 9·255·127) · 2 ≤ 2^30
        bias[36] = largest
        XCTAssertTrue(fits())
        bias[36] = largest + 1
        XCTAssertFalse(fits())
        bias[36] = -largest - 1
        XCTAssertFalse(fits())
        bias[36] = Int32.min
        XCTAssertFalse(fits())
        bias[36] = 0
        shift[20] = 3   // (1000 + 9·255·127) · 2^4 ≤ 2^30
        XCTAssertTrue(fits())
        shift[20] = 12
        XCTAssertFalse(fits())
        shift[20] = -32
        XCTAssertFalse(fits())
        shift[20] = -31
        XCTAssertTrue(fits())
        mult[0] = Int32.min
        XCTAssertFalse(fits())
    }
    #endif
}
