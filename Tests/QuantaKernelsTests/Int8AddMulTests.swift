import XCTest
@testable import QuantaKernels

/// TFLite's constant preparation for int8 add (`PrepareGeneralSubOp`/add.cc): left shift 20,
/// input multipliers `s_i / (2 max(s1, s2))`, output multiplier `2 max(s1, s2) / (2^20 s_out)`.
func tfliteAddQuantization(_ a: QuantizationParameters, _ b: QuantizationParameters, _ out: QuantizationParameters, clampMin: Int32 = -128, clampMax: Int32 = 127) -> AddQuantization {
    let twiceMax = 2 * Double(max(a.scale, b.scale))
    let m1 = FixedPoint.quantizeMultiplier(Double(a.scale) / twiceMax)
    let m2 = FixedPoint.quantizeMultiplier(Double(b.scale) / twiceMax)
    let mo = FixedPoint.quantizeMultiplier(twiceMax / (Double(1 << 20) * Double(out.scale)))
    return AddQuantization(
        input1ZeroPoint: a.zeroPoint, input2ZeroPoint: b.zeroPoint, outputZeroPoint: out.zeroPoint, leftShift: 20,
        input1Multiplier: m1.multiplier, input1Shift: m1.shift, input2Multiplier: m2.multiplier, input2Shift: m2.shift,
        outputMultiplier: mo.multiplier, outputShift: mo.shift, clampMin: clampMin, clampMax: clampMax)
}

func tfliteMulQuantization(_ a: QuantizationParameters, _ b: QuantizationParameters, _ out: QuantizationParameters, clampMin: Int32 = -128, clampMax: Int32 = 127) -> MulQuantization {
    let m = FixedPoint.quantizeMultiplier(Double(a.scale) * Double(b.scale) / Double(out.scale))
    return MulQuantization(input1ZeroPoint: a.zeroPoint, input2ZeroPoint: b.zeroPoint, outputZeroPoint: out.zeroPoint, multiplier: m.multiplier, shift: m.shift, clampMin: clampMin, clampMax: clampMax)
}

final class Int8AddMulTests: XCTestCase {
    let qa = QuantizationParameters(scale: 0.05, zeroPoint: -10)
    let qb = QuantizationParameters(scale: 0.031, zeroPoint: 7)
    let qAdd = QuantizationParameters(scale: 0.08, zeroPoint: 3)
    let qMul = QuantizationParameters(scale: 0.1, zeroPoint: -2)

    func add(_ a: [Int8], _ sa: TensorShape, _ b: [Int8], _ sb: TensorShape, _ q: AddQuantization) -> [Int8] {
        var out = [Int8](repeating: 0, count: sa.elementCount)
        Int8Reference.add(input1: a, shape1: sa, input2: b, shape2: sb, output: &out, outputShape: sa, quantization: q)
        return out
    }

    func mul(_ a: [Int8], _ sa: TensorShape, _ b: [Int8], _ sb: TensorShape, _ q: MulQuantization) -> [Int8] {
        var out = [Int8](repeating: 0, count: sa.elementCount)
        Int8Reference.mul(input1: a, shape1: sa, input2: b, shape2: sb, output: &out, outputShape: sa, quantization: q)
        return out
    }

    /// Writes the broadcast second operand out at the full shape.
    func expand(_ b: [Int8], _ sb: TensorShape, to s: TensorShape) -> [Int8] {
        var out = [Int8]()
        for n in 0..<s.n { for y in 0..<s.h { for x in 0..<s.w { for c in 0..<s.c {
            out.append(b[sb.index(sb.n == 1 ? 0 : n, sb.h == 1 ? 0 : y, sb.w == 1 ? 0 : x, sb.c == 1 ? 0 : c)])
        } } } }
        return out
    }

    func testAddIsWithinOneUnitOfFloatSum() {
        var g = SplitMix64(seed: 31)
        let s = TensorShape(n: 1, h: 5, w: 4, c: 6)
        let a = Int8TestData.int8s(s.elementCount, &g)
        let b = Int8TestData.int8s(s.elementCount, &g)
        let out = add(a, s, b, s, tfliteAddQuantization(qa, qb, qAdd))
        for i in 0..<s.elementCount {
            let real = Quantizer.dequantize(a[i], qa) + Quantizer.dequantize(b[i], qb)
            XCTAssertLessThanOrEqual(abs(Int(out[i]) - Int(Quantizer.quantize(real, qAdd))), 1, "element \(i)")
        }
    }

    func testAddHandComputedEqualScales() {
        // Equal scales s, output scale 2s: multipliers 0.5, 0.5 and 1 (2^30, 0 / 2^30, 0 /
        // 2^30, -19). (a - zp) + (b - zp) = 5 + 6 = 11 in units of s → 5.5 in units of 2s → 6
        // (both roundings go up), + output zero point 1 = 7.
        let p = QuantizationParameters(scale: 0.5, zeroPoint: 0)
        let q = tfliteAddQuantization(p, p, QuantizationParameters(scale: 1, zeroPoint: 1))
        XCTAssertEqual(q.input1Multiplier, 1 << 30)
        XCTAssertEqual(q.input1Shift, 0)
        XCTAssertEqual(q.outputShift, -19)
        let one = TensorShape(h: 1, w: 1, c: 1)
        XCTAssertEqual(add([5], one, [6], one, q), [7])
        XCTAssertEqual(add([-5], one, [-6], one, q), [-5])  // -5.5 → -6 (RDBPOT away from zero), + 1
    }

    func testAddBroadcastPerChannelAndScalarEqualExplicitExpansion() {
        var g = SplitMix64(seed: 32)
        let s = TensorShape(n: 2, h: 3, w: 4, c: 5)
        let a = Int8TestData.int8s(s.elementCount, &g)
        let q = tfliteAddQuantization(qa, qb, qAdd)
        for sb in [TensorShape(n: 2, h: 1, w: 1, c: 5), TensorShape(n: 1, h: 1, w: 1, c: 1), TensorShape(n: 1, h: 1, w: 1, c: 5)] {
            let b = Int8TestData.int8s(sb.elementCount, &g)
            XCTAssertEqual(add(a, s, b, sb, q), add(a, s, expand(b, sb, to: s), s, q), "\(sb)")
        }
    }

    func testAddClampsExactlyAndWorksInPlace() {
        var g = SplitMix64(seed: 33)
        let s = TensorShape(h: 4, w: 4, c: 4)
        let a = Int8TestData.int8s(s.elementCount, &g)
        let b = Int8TestData.int8s(s.elementCount, &g)
        let free = add(a, s, b, s, tfliteAddQuantization(qa, qb, qAdd))
        let clamped = add(a, s, b, s, tfliteAddQuantization(qa, qb, qAdd, clampMin: 3, clampMax: 40))
        XCTAssertEqual(clamped, free.map { min(max($0, 3), 40) })
        XCTAssertTrue(clamped.contains(3) && clamped.contains(40))
        var inPlace = a
        inPlace.withUnsafeMutableBufferPointer { p in
            Int8Reference.add(input1: p.baseAddress!, shape1: s, input2: b, shape2: s, output: p.baseAddress!, outputShape: s, quantization: tfliteAddQuantization(qa, qb, qAdd))
        }
        XCTAssertEqual(inPlace, free)
    }

    func testMulIsWithinOneUnitOfFloatProduct() {
        var g = SplitMix64(seed: 34)
        let s = TensorShape(n: 1, h: 3, w: 7, c: 5)
        let a = Int8TestData.int8s(s.elementCount, &g)
        let b = Int8TestData.int8s(s.elementCount, &g)
        let out = mul(a, s, b, s, tfliteMulQuantization(qa, qb, qMul))
        for i in 0..<s.elementCount {
            let real = Quantizer.dequantize(a[i], qa) * Quantizer.dequantize(b[i], qb)
            XCTAssertLessThanOrEqual(abs(Int(out[i]) - Int(Quantizer.quantize(real, qMul))), 1, "element \(i)")
        }
    }

    func testMulHandComputed() {
        // (20 - 0) * (-3 - 1) = -80, multiplier 0.25 = (2^30, -1) → -20, + zero point 5 = -15;
        // 21 * 2 = 42 * 0.25 = 10.5 → 11 (+5 = 16); 21 * -2 = -42: SRDHM(-42, 2^30) = -21
        // exactly, then RDBPOT(-21, 1) = -10.5 → -11 (away from zero), +5 = -6.
        let q = MulQuantization(input1ZeroPoint: 0, input2ZeroPoint: 1, outputZeroPoint: 5, multiplier: 1 << 30, shift: -1)
        let s = TensorShape(h: 1, w: 1, c: 3)
        XCTAssertEqual(mul([20, 21, 21], s, [-3, 3, -1], s, q), [-15, 16, -6])
    }

    func testMulSqueezeExciteBroadcastEqualsExplicitExpansion() {
        var g = SplitMix64(seed: 35)
        let s = TensorShape(n: 2, h: 4, w: 3, c: 6)
        let a = Int8TestData.int8s(s.elementCount, &g)
        let q = tfliteMulQuantization(qa, qb, qMul, clampMin: -50, clampMax: 50)
        for sb in [TensorShape(n: 2, h: 1, w: 1, c: 6), TensorShape(n: 1, h: 1, w: 1, c: 1)] {
            let b = Int8TestData.int8s(sb.elementCount, &g)
            let out = mul(a, s, b, sb, q)
            XCTAssertEqual(out, mul(a, s, expand(b, sb, to: s), s, q), "\(sb)")
            XCTAssertTrue(out.allSatisfy { (-50...50).contains($0) })
        }
    }
}
