import XCTest
@testable import QuantaKernels

/// `VectorMul` (the `.elementwise` mul) against `Int8Reference.mul`, bit for bit.
final class OptimizedMulTests: XCTestCase {
    func reference(_ a: [Int8], _ s1: TensorShape, _ b: [Int8], _ s2: TensorShape, _ q: MulQuantization) -> [Int8] {
        var out = [Int8](repeating: 0, count: a.count)
        Int8Reference.mul(input1: a, shape1: s1, input2: b, shape2: s2, output: &out, outputShape: s1, quantization: q)
        return out
    }

    func testVectorMulEqualsReferenceForGatesAndEqualShapes() {
        var g = SeededGenerator(seed: 41)
        var distinct = Set<Int8>()
        for trial in 0..<300 {
            // Channel counts below, at and past multiples of 8; batches; gates and equal shapes.
            let s1 = TensorShape(
                n: Int.random(in: 1...2, using: &g), h: Int.random(in: 1...5, using: &g),
                w: Int.random(in: 1...5, using: &g), c: Int.random(in: 1...37, using: &g))
            let s2 = trial % 3 == 0 ? s1 : TensorShape(n: s1.n, h: 1, w: 1, c: s1.c)
            let lo = Int32.random(in: -128...0, using: &g)
            let q = MulQuantization(
                input1ZeroPoint: Int32.random(in: -128...127, using: &g), input2ZeroPoint: Int32.random(in: -128...127, using: &g),
                outputZeroPoint: Int32.random(in: -128...127, using: &g),
                multiplier: Int32.random(in: (1 << 30)...Int32.max, using: &g),
                // Mostly the quantizer's range (products ~2^14, scales ~2^-8), some left shifts.
                shift: trial % 5 == 0 ? Int32.random(in: 0...3, using: &g) : Int32.random(in: -14 ... -4, using: &g),
                clampMin: lo, clampMax: Int32.random(in: max(lo, 0)...127, using: &g))
            let a = (0..<s1.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
            let b = (0..<s2.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
            var out = [Int8](repeating: 0, count: a.count)
            VectorMul.run(input1: a, shape1: s1, input2: b, shape2: s2, output: &out, quantization: q)
            let expected = reference(a, s1, b, s2, q)
            XCTAssertEqual(out, expected, "trial \(trial), \(s1) × \(s2), \(q)")
            distinct.formUnion(expected)
        }
        XCTAssertGreaterThan(distinct.count, 200)
    }

    func testVectorMulInPlaceOverTheFirstOperand() {
        var g = SeededGenerator(seed: 42)
        let s1 = TensorShape(n: 1, h: 3, w: 3, c: 21), s2 = TensorShape(n: 1, h: 1, w: 1, c: 21)
        let q = MulQuantization(input1ZeroPoint: -3, input2ZeroPoint: -128, outputZeroPoint: 5, multiplier: 1 << 30, shift: -7)
        let a = (0..<s1.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
        let b = (0..<s2.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
        let expected = reference(a, s1, b, s2, q)
        var inPlace = a
        inPlace.withUnsafeMutableBufferPointer { p in
            VectorMul.run(input1: p.baseAddress!, shape1: s1, input2: b, shape2: s2, output: p.baseAddress!, quantization: q)
        }
        XCTAssertEqual(inPlace, expected)
        XCTAssertFalse(VectorMul.applies(shape1: s1, shape2: TensorShape(n: 1, h: 1, w: 1, c: 1)))
        XCTAssertFalse(VectorMul.applies(shape1: s1, shape2: TensorShape(n: 1, h: 3, w: 1, c: 21)))
    }
}
