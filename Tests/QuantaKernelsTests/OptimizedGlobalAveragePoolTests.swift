import XCTest
@testable import QuantaKernels

/// `VectorGlobalAveragePool` (the `.elementwise` global average pool) against
/// `Int8Reference.globalAveragePool`, bit for bit.
final class OptimizedGlobalAveragePoolTests: XCTestCase {
    func run(_ input: [Int8], _ shape: TensorShape, zp: Int32, outZp: Int32, m: Int32, s: Int32, vector: Bool) -> [Int8] {
        var out = [Int8](repeating: 0, count: shape.n * shape.c)
        if vector {
            VectorGlobalAveragePool.run(
                input: input, inputShape: shape, inputZeroPoint: zp, output: &out,
                outputZeroPoint: outZp, multiplier: m, shift: s)
        } else {
            Int8Reference.globalAveragePool(
                input: input, inputShape: shape, inputZeroPoint: zp, output: &out,
                outputZeroPoint: outZp, multiplier: m, shift: s)
        }
        return out
    }

    func testVectorPoolEqualsReferenceOverShapesAndParameters() {
        var g = SeededGenerator(seed: 31)
        var distinct = Set<Int8>()
        for trial in 0..<200 {
            // Channel counts below, at and past multiples of 16; batches; 1×1 maps.
            let shape = TensorShape(
                n: Int.random(in: 1...2, using: &g), h: Int.random(in: 1...9, using: &g),
                w: Int.random(in: 1...9, using: &g), c: Int.random(in: 1...53, using: &g))
            let input = (0..<shape.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
            let zp = Int32.random(in: -128...127, using: &g)
            let outZp = Int32.random(in: -128...127, using: &g)
            let m = Int32.random(in: (1 << 30)...Int32.max, using: &g)
            let s = Int32.random(in: -3...2, using: &g)
            let expected = run(input, shape, zp: zp, outZp: outZp, m: m, s: s, vector: false)
            XCTAssertEqual(run(input, shape, zp: zp, outZp: outZp, m: m, s: s, vector: true), expected,
                           "trial \(trial), \(shape), zp \(zp), out zp \(outZp), m \(m), shift \(s)")
            distinct.formUnion(expected)
        }
        // Not all saturated: the comparison means something.
        XCTAssertGreaterThan(distinct.count, 100)
    }

    func testVectorPoolOnExtremeInputsAtTheSumBound() {
        // 2^31 / 255 pixels would overflow; a 7×7×1280 map of -128 with zero point 127 is the
        // largest |Σ (in - zp)| MobileNet-sized pools reach.
        let shape = TensorShape(n: 1, h: 7, w: 7, c: 1280)
        for (value, zp) in [(Int8(-128), Int32(127)), (Int8(127), Int32(-128)), (Int8(5), Int32(5))] {
            let input = [Int8](repeating: value, count: shape.elementCount)
            let expected = run(input, shape, zp: zp, outZp: 3, m: 1 << 30, s: 1, vector: false)
            XCTAssertEqual(run(input, shape, zp: zp, outZp: 3, m: 1 << 30, s: 1, vector: true), expected)
        }
    }
}
