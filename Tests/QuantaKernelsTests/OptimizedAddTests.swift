import XCTest
@testable import QuantaKernels
#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel
#endif

/// `VectorAdd` (the `.elementwise` add) against `Int8Reference.add`, bit for bit.
final class OptimizedAddTests: XCTestCase {
    func randomQuantization(_ g: inout SeededGenerator) -> AddQuantization {
        func multiplier() -> Int32 { Int32.random(in: (1 << 30)...Int32.max, using: &g) }
        let lo = Int32.random(in: -128...0, using: &g)
        return AddQuantization(
            input1ZeroPoint: Int32.random(in: -128...127, using: &g), input2ZeroPoint: Int32.random(in: -128...127, using: &g),
            outputZeroPoint: Int32.random(in: -128...127, using: &g), leftShift: Int32.random(in: 0...22, using: &g),
            input1Multiplier: multiplier(), input1Shift: Int32.random(in: -31...0, using: &g),
            input2Multiplier: multiplier(), input2Shift: Int32.random(in: -31...0, using: &g),
            outputMultiplier: multiplier(), outputShift: Int32.random(in: -31...0, using: &g),
            clampMin: lo, clampMax: Int32.random(in: max(lo, 0)...127, using: &g))
    }

    func reference(_ a: [Int8], _ b: [Int8], _ q: AddQuantization) -> [Int8] {
        var out = [Int8](repeating: 0, count: a.count)
        let shape = TensorShape(n: 1, h: 1, w: 1, c: a.count)
        Int8Reference.add(input1: a, shape1: shape, input2: b, shape2: shape, output: &out, outputShape: shape, quantization: q)
        return out
    }

    func testVectorAddEqualsReferenceOnRandomOperandsAndParameters() {
        var g = SeededGenerator(seed: 21)
        for trial in 0..<300 {
            let count = Int.random(in: 1...70, using: &g)
            var q = randomQuantization(&g)
            // Mostly the quantizer's form: left shift 20, small right shifts.
            if trial % 2 == 0 {
                q.leftShift = 20
                q.input1Shift = Int32.random(in: -3...0, using: &g)
                q.input2Shift = Int32.random(in: -3...0, using: &g)
                q.outputShift = Int32.random(in: -25 ... -15, using: &g)
            }
            let a = (0..<count).map { _ in Int8.random(in: -128...127, using: &g) }
            let b = (0..<count).map { _ in Int8.random(in: -128...127, using: &g) }
            var out = [Int8](repeating: 0, count: count)
            VectorAdd.run(input1: a, input2: b, output: &out, count: count, quantization: q)
            XCTAssertEqual(out, reference(a, b, q), "trial \(trial), count \(count), \(q)")
        }
    }

    /// What `quanta quantize` writes by default (left shift 20, input multipliers rounded to
    /// `ShortMultiplier`'s add-input form): the AVX2 kernel's 32-bit input scaling, on blocks
    /// of 16 with tails, equals the reference; also in place over the first operand.
    func testVectorAddWithShortInputMultipliersEqualsReference() {
        var g = SeededGenerator(seed: 23)
        for trial in 0..<300 {
            let count = Int.random(in: 1...100, using: &g)
            var q = randomQuantization(&g)
            q.leftShift = 20
            (q.input1Multiplier, q.input1Shift) = ShortMultiplier.shortenedAddInput(
                multiplier: q.input1Multiplier, shift: trial % 3 == 0 ? 0 : Int32.random(in: -28...0, using: &g))
            (q.input2Multiplier, q.input2Shift) = ShortMultiplier.shortenedAddInput(
                multiplier: trial % 5 == 0 ? 1 << 30 : q.input2Multiplier, shift: Int32.random(in: -6...0, using: &g))
            q.outputShift = Int32.random(in: -25 ... -15, using: &g)
            XCTAssertTrue(ShortMultiplier.appliesToAddInput(multiplier: q.input1Multiplier, shift: q.input1Shift, leftShift: 20))
            let a = (0..<count).map { _ in Int8.random(in: -128...127, using: &g) }
            let b = (0..<count).map { _ in Int8.random(in: -128...127, using: &g) }
            let expected = reference(a, b, q)
            var out = [Int8](repeating: 0, count: count)
            VectorAdd.run(input1: a, input2: b, output: &out, count: count, quantization: q)
            XCTAssertEqual(out, expected, "trial \(trial), count \(count), \(q)")
            var first = a
            first.withUnsafeMutableBufferPointer { p in
                VectorAdd.run(input1: p.baseAddress!, input2: b, output: p.baseAddress!, count: count, quantization: q)
            }
            XCTAssertEqual(first, expected, "in place, trial \(trial)")
        }
    }

    /// The AVX2 input scaling equals `ShortMultiplier.addInputRounded` (itself TFLite's
    /// `MBQMSmallerThanOne(d << 20, M, s)`, see ShortMultiplierTests) for all 256 int8
    /// values, every zero point class and every shift the form takes.
    func testAVX2AddInputScaleEqualsTheScalarFormOnEveryInput() {
        #if arch(x86_64) && QUANTA_AVX2
        var g = SeededGenerator(seed: 24)
        let values = (0..<256).map { Int8(truncatingIfNeeded: $0) }
        for shift in Int32(-28)...0 {
            let m = (Int32.random(in: (1 << 30)...Int32.max, using: &g) >> 9) << 9
            let zp = [Int32(-128), 127, 0, Int32.random(in: -128...127, using: &g)][Int(-shift) % 4]
            let scale = AVX2AddInputScale(zeroPoint: zp, multiplier: m, shift: shift)
            for i in stride(from: 0, to: 256, by: 8) {
                let lanes = unsafeBitCast(values.withUnsafeBufferPointer { scale.scaled($0.baseAddress! + i) }, to: SIMD8<Int32>.self)
                for j in 0..<8 {
                    let expected = ShortMultiplier.addInputRounded(Int32(values[i + j]) - zp, multiplier: m, shift: shift)
                    XCTAssertEqual(lanes[j], expected, "q \(values[i + j]) zp \(zp) m \(m) shift \(shift)")
                }
            }
        }
        #endif
    }

    func testVectorAddInPlaceOverEitherOperand() {
        var g = SeededGenerator(seed: 22)
        var q = randomQuantization(&g)
        q.leftShift = 20
        q.input1Shift = 0
        q.input2Shift = 0
        q.outputShift = -19
        q.clampMin = -128
        q.clampMax = 127
        let a = (0..<37).map { _ in Int8.random(in: -128...127, using: &g) }
        let b = (0..<37).map { _ in Int8.random(in: -128...127, using: &g) }
        let expected = reference(a, b, q)
        var first = a
        first.withUnsafeMutableBufferPointer { p in
            VectorAdd.run(input1: p.baseAddress!, input2: b, output: p.baseAddress!, count: 37, quantization: q)
        }
        XCTAssertEqual(first, expected)
        var second = b
        second.withUnsafeMutableBufferPointer { p in
            VectorAdd.run(input1: a, input2: p.baseAddress!, output: p.baseAddress!, count: 37, quantization: q)
        }
        XCTAssertEqual(second, expected)
        // Not all saturated: the comparison means something.
        XCTAssertGreaterThan(Set(expected).count, 5)
    }
}
