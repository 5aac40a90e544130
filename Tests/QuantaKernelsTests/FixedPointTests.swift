import XCTest
@testable import QuantaKernels

/// Vectors for the TFLite / gemmlowp fixed-point helpers. Unless noted, the expected values
/// come from `Tools/numerics/tflite_fixed_point.py`, an independent Python model of the C++
/// definitions using unbounded integers; the short ones are also checked by hand in the
/// comments.
final class FixedPointTests: XCTestCase {
    typealias FP = FixedPoint

    // MARK: SaturatingRoundingDoublingHighMul

    func testSRDHMMinTimesMinSaturatesToMax() {
        // (-2^31)^2 * 2 / 2^32 = 2^31, one past Int32.max: gemmlowp's only overflow.
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(Int32.min, Int32.min), Int32.max)
    }

    func testSRDHMExtremesDoNotSaturate() {
        // (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31 → 2147483646 (script).
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(Int32.max, Int32.max), 2147483646)
        // -2^31 * (2^31-1) / 2^31 = -(2^31 - 1) exactly.
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(Int32.min, Int32.max), -2147483647)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(Int32.min, 1 << 30), -1073741824)
    }

    func testSRDHMRoundsTiesTowardPositiveInfinity() {
        // 1 * 2^30 / 2^31 = 0.5 → 1;  -0.5 → 0;  1.5 → 2;  -1.5 → -1 (hand: (ab + nudge) / 2^31 truncated).
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(1, 1 << 30), 1)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(-1, 1 << 30), 0)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(3, 1 << 30), 2)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(-3, 1 << 30), -1)
        // 5 * -2^30 / 2^31 = -2.5 → -2.
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(5, -(1 << 30)), -2)
    }

    func testSRDHMGeneralValuesAreSymmetricAndMatchScript() {
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 536870912)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(123456789, 987654321), 56779306)
        XCTAssertEqual(FP.saturatingRoundingDoublingHighMul(-123456789, 987654321), -56779306)
    }

    // MARK: RoundingDivideByPOT

    func testRDBPOTRoundsHalfAwayFromZero() {
        // 2.5 → 3, -1.5 → -2, -1.25 → -1, 1.5 → 2, -1 → -1, -1.5 → -2, 1.5 → 2 (hand).
        XCTAssertEqual(FP.roundingDivideByPOT(5, 1), 3)
        XCTAssertEqual(FP.roundingDivideByPOT(-3, 1), -2)
        XCTAssertEqual(FP.roundingDivideByPOT(-5, 2), -1)
        XCTAssertEqual(FP.roundingDivideByPOT(3, 1), 2)
        XCTAssertEqual(FP.roundingDivideByPOT(-2, 1), -1)
        XCTAssertEqual(FP.roundingDivideByPOT(-6, 2), -2)
        XCTAssertEqual(FP.roundingDivideByPOT(6, 2), 2)
        // -1000/8 = -125 exactly; -1004/8 = -125.5 → -126; -1005/8 = -125.625 → -126.
        XCTAssertEqual(FP.roundingDivideByPOT(1000, 3), 125)
        XCTAssertEqual(FP.roundingDivideByPOT(-1000, 3), -125)
        XCTAssertEqual(FP.roundingDivideByPOT(-1004, 3), -126)
        XCTAssertEqual(FP.roundingDivideByPOT(-1005, 3), -126)
    }

    func testRDBPOTExponentZeroIsIdentity() {
        XCTAssertEqual(FP.roundingDivideByPOT(7, 0), 7)
        XCTAssertEqual(FP.roundingDivideByPOT(Int32.min, 0), Int32.min)
        XCTAssertEqual(FP.roundingDivideByPOT(Int32.max, 0), Int32.max)
    }

    func testRDBPOTExponent31() {
        // x / 2^31 for the extremes and the ±0.5 ties: ±2^30 / 2^31 = ±0.5 → ±1 (away from
        // zero); (2^30 - 1) / 2^31 < 0.5 → 0; -(2^30 + 1) / 2^31 < -0.5 → -1.
        XCTAssertEqual(FP.roundingDivideByPOT(Int32.max, 31), 1)
        XCTAssertEqual(FP.roundingDivideByPOT(Int32.min, 31), -1)
        XCTAssertEqual(FP.roundingDivideByPOT(1 << 30, 31), 1)
        XCTAssertEqual(FP.roundingDivideByPOT(-(1 << 30), 31), -1)
        XCTAssertEqual(FP.roundingDivideByPOT((1 << 30) - 1, 31), 0)
        XCTAssertEqual(FP.roundingDivideByPOT(-(1 << 30) - 1, 31), -1)
    }

    // MARK: MultiplyByQuantizedMultiplier

    func testMBQMWithHalfAndOne() {
        // 0.5 is (2^30, 0): 1000 → 500; 1.0 is (2^30, 1): 1000 → 1000; (2^30, -1) is 0.25.
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(1000, 1 << 30, 0), 500)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(1000, 1 << 30, 1), 1000)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(1000, 1 << 30, -1), 250)
        // -999 * 0.5 = -499.5: SRDHM rounds the tie toward +∞ → -499 (script).
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(-999, 1 << 30, 0), -499)
        // -1000 / 32 = -31.25 → -31.
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(-1000, 1 << 30, -4), -31)
    }

    func testMBQMPositiveShiftIsLeftShiftFirst() {
        // 7 * 0.5 * 2^3 = 28 (shift 3 → 7 << 3 = 56, then SRDHM with 2^30 halves it).
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(7, 1 << 30, 3), 28)
    }

    func testMBQMIsOddInX() {
        // 12345 * 1518500250 / 2^31 / 2^7 ≈ 68.19 (script).
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(12345, 1518500250, -7), 68)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(-12345, 1518500250, -7), -68)
    }

    func testMBQMShiftMinus31() {
        // 100 * (2^31-1) / 2^62 ≈ 0; (2^31-1)^2 / 2^62 ≈ 1 (script).
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(100, Int32.max, -31), 0)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(Int32.max, Int32.max, -31), 1)
    }

    func testMBQMLeftShiftWrapsLikeTFLiteCompiledCode() {
        // 3 << 31 wraps to -2^31 (UB in C++, a wrapping shift on every target), then *0.5.
        XCTAssertEqual(FP.multiplyByQuantizedMultiplier(3, 1 << 30, 31), -1073741824)
    }

    func testMBQMSmallerThanOneExp() {
        // (255 << 20) * 0.5 / 2 = 66846720; -(255 << 20) * sqrt(0.5) / 2^20 = -180.31 → -180 (script).
        XCTAssertEqual(FP.multiplyByQuantizedMultiplierSmallerThanOneExp(255 << 20, 1 << 30, -1), 66846720)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplierSmallerThanOneExp(-(255 << 20), 1518500250, -20), -180)
        XCTAssertEqual(FP.multiplyByQuantizedMultiplierSmallerThanOneExp(1 << 20, 1 << 30, 0), 524288)
    }

    // MARK: QuantizeMultiplier

    func check(_ real: Double, _ multiplier: Int32, _ shift: Int32, file: StaticString = #filePath, line: UInt = #line) {
        let q = FP.quantizeMultiplier(real)
        XCTAssertEqual(q.multiplier, multiplier, "multiplier of \(real)", file: file, line: line)
        XCTAssertEqual(q.shift, shift, "shift of \(real)", file: file, line: line)
    }

    func testQuantizeMultiplierOfOneAndHalf() {
        check(1.0, 1 << 30, 1)  // frexp(1) = 0.5 * 2^1
        check(0.5, 1 << 30, 0)  // frexp(0.5) = 0.5 * 2^0
        check(0.75, 1610612736, 0)  // 0.75 * 2^31
        check(0, 0, 0)
    }

    func testQuantizeMultiplierAboveOneHasPositiveShift() {
        check(3.0, 1610612736, 2)  // 0.75 * 2^2
        check(12.5, 1677721600, 4)  // 0.78125 * 2^4
        check(1.4142135623730951, 1518500250, 1)
    }

    func testQuantizeMultiplierRoundingUpToTwoPow31HalvesAndIncrementsShift() {
        // q * 2^31 rounds to 2^31 → (2^30, e + 1).
        check(0.999999999999, 1 << 30, 1)
        check((2147483648.0 - 0.5) / 2147483648.0, 1 << 30, 1)
        check(0.9999999999 * 0x1p-31, 1 << 30, -30)
    }

    func testQuantizeMultiplierGeneralValues() {
        check(1.0 / 3.0, 1431655765, -1)
        check(0.0123, 1690499128, -6)
        check(-0.75, -1610612736, 0)
    }

    func testQuantizeMultiplierBelowTwoPowMinus32FlushesToZero() {
        check(0x1p-31, 1 << 30, -30)
        check(0x1p-32, 1 << 30, -31)  // the smallest kept: shift -31
        check(0x1p-33, 0, 0)
        check(1e-10, 0, 0)
        check(Double.leastNonzeroMagnitude, 0, 0)
    }

    func testQuantizedMultiplierReproducesRealWithinHalfULPOfQ31() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let real = Double(generator.next() % 1_000_000 + 1) / 65536.0  // (0, 15.3]
            let (m, s) = FP.quantizeMultiplier(real)
            let reconstructed = Double(m) * pow(2.0, Double(s - 31))
            XCTAssertLessThanOrEqual(abs(reconstructed - real), 0.5 * pow(2.0, Double(s - 31)) * 1.000001)
            XCTAssertTrue(m >= 1 << 30, "multiplier normalized")
        }
    }

    // MARK: Quantizer

    func testQuantizeRoundsHalfAwayFromZeroAndSaturates() {
        let p = QuantizationParameters(scale: 0.5, zeroPoint: 3)
        XCTAssertEqual(Quantizer.quantize(0.25, p), 4)  // 0.5 → 1, + 3
        XCTAssertEqual(Quantizer.quantize(-0.25, p), 2)  // -0.5 → -1, + 3
        XCTAssertEqual(Quantizer.quantize(0.74, p), 4)  // 1.48 → 1
        XCTAssertEqual(Quantizer.quantize(-0.75, p), 1)  // -1.5 → -2
        XCTAssertEqual(Quantizer.quantize(62, p), 127)  // 124 + 3 = 127 exactly
        XCTAssertEqual(Quantizer.quantize(62.5, p), 127)  // 128 saturates
        XCTAssertEqual(Quantizer.quantize(-65.5, p), -128)  // -131 + 3 = -128 exactly
        XCTAssertEqual(Quantizer.quantize(-1e30, p), -128)
        XCTAssertEqual(Quantizer.quantize(Float.infinity, p), 127)
        XCTAssertEqual(Quantizer.quantize(Float.nan, p), 3)
    }

    func testDequantizeIsScaleTimesOffset() {
        let p = QuantizationParameters(scale: 0.25, zeroPoint: -10)
        XCTAssertEqual(Quantizer.dequantize(-10, p), 0)
        XCTAssertEqual(Quantizer.dequantize(127, p), 34.25)
        XCTAssertEqual(Quantizer.dequantize(-128, p), -29.5)
    }

    func testQuantizeDequantizeRoundTripsEveryInt8() {
        let p = QuantizationParameters(scale: 0.0123, zeroPoint: 17)
        for q in Int8.min...Int8.max {
            XCTAssertEqual(Quantizer.quantize(Quantizer.dequantize(q, p), p), q)
        }
    }

    func testChooseParametersMatchesTFLiteFormula() {
        // Expected values from the TFLite ChooseQuantizationParams formula in Python float64,
        // with the inputs first rounded to float32 as Swift passes them.
        func check(_ lo: Float, _ hi: Float, _ scale: Float, _ zp: Int32, line: UInt = #line) {
            let p = Quantizer.chooseParameters(min: lo, max: hi)
            XCTAssertEqual(p.scale, scale, accuracy: scale * 1e-6, line: line)
            XCTAssertEqual(p.zeroPoint, zp, line: line)
        }
        check(-1, 1, 0.007843138, -1)  // zero point -0.5 rounds away from zero to -1
        check(-6, 6, 0.047058824, -1)
        check(0, 1, 0.003921569, -128)
        check(2, 5, 0.019607844, -128)  // range widened to 0...5
        check(-3, -1, 0.011764706, 127)  // range widened to -3...0
        check(-0.5, 2.5, 0.011764706, -86)  // -85.5 → -86
        check(-0.7, 2.3, 0.011764706, -68)  // Float(-0.7) gives -68.4999998 → -68
        check(-1.5, 0.25, 0.006862745, 91)
    }

    func testChooseParametersRepresentsZeroExactly() {
        for (lo, hi) in [(Float(-0.37), Float(5.1)), (-100, 0.001), (-2.5, 2.5), (0.3, 0.9)] {
            let p = Quantizer.chooseParameters(min: lo, max: hi)
            XCTAssertEqual(Quantizer.dequantize(Quantizer.quantize(0, p), p), 0)
            XCTAssertTrue((-128...127).contains(p.zeroPoint))
            XCTAssertGreaterThan(p.scale, 0)
        }
    }

    func testChooseParametersAllZeroRangeHasPositiveScale() {
        XCTAssertEqual(Quantizer.chooseParameters(min: 0, max: 0), QuantizationParameters(scale: 1, zeroPoint: 0))
    }
}

/// A small deterministic generator for tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
