import XCTest
@testable import QuantaKernels

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
