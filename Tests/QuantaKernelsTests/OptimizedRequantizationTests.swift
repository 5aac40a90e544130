import XCTest
@testable import QuantaKernels

/// The vectorized output stage against `FixedPoint.multiplyByQuantizedMultiplier` lane by lane,
/// including the rounding edges (ties of SRDHM and RDBPOT on negative values), the
/// `Int32.min²` saturation, wrapping left shifts and every shift in -31...31.
final class OptimizedRequantizationTests: XCTestCase {
    func scalar(_ acc: Int32, _ m: Int32, _ s: Int32, zp: Int32, lo: Int32, hi: Int32) -> Int32 {
        let v = Int64(FixedPoint.multiplyByQuantizedMultiplier(acc, m, s)) + Int64(zp)
        return Int32(min(max(v, Int64(lo)), Int64(hi)))
    }

    func testVectorRequantizationEqualsFixedPointOnEdgesAndRandomValues() {
        var g = SeededGenerator(seed: 11)
        let edges: [Int32] = [0, 1, -1, 2, -2, 3, -3, 5, -5, Int32.min, Int32.max, Int32.min + 1, 1 << 30, -(1 << 30), 12345, -12345, 0x4000_0001, -0x4000_0001]
        let edgeMultipliers: [Int32] = [Int32.min, Int32.max, 1 << 30, 0, -(1 << 30), 1, -1]
        for trial in 0..<3000 {
            var accs = SIMD8<Int32>()
            var ms = [Int32](repeating: 0, count: 8)
            var ss = [Int32](repeating: 0, count: 8)
            for i in 0..<8 {
                accs[i] = Bool.random(using: &g) ? edges.randomElement(using: &g)! : Int32.random(in: .min ... .max, using: &g)
                ms[i] = Int.random(in: 0..<4, using: &g) == 0 ? edgeMultipliers.randomElement(using: &g)! : Int32.random(in: .min ... .max, using: &g)
                ss[i] = Int32.random(in: -31...31, using: &g)
            }
            let zp = Int32.random(in: -128...127, using: &g)
            let lo = trial % 3 == 0 ? Int32(-128) : Int32.random(in: -128...0, using: &g)
            let hi = trial % 3 == 0 ? Int32(127) : Int32.random(in: 0...127, using: &g)
            ms.withUnsafeBufferPointer { m in
                ss.withUnsafeBufferPointer { s in
                    let r = Requantization(multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: 8, outputZeroPoint: zp, clampMin: lo, clampMax: hi)
                    let portable = RequantizationBlock8(r, first: 0, count: 8).apply(accs)
                    #if arch(x86_64) && QUANTA_AVX2
                    let q = AVX2Requantization(r, first: 0, count: 8)
                    let avx = unsafeBitCast(q.apply(unsafeBitCast(accs, to: SIMD4<Int64>.self)), to: SIMD8<Int32>.self)
                    // The GEMM's store: saturating packs, zero point in int16, clamp on bytes.
                    var packed = [Int8](repeating: 0, count: 16)
                    let y = q.rounded(unsafeBitCast(accs, to: SIMD4<Int64>.self))
                    packed.withUnsafeMutableBufferPointer { q.storeRounded16(y, y, $0.baseAddress!, count: 16) }
                    #endif
                    for i in 0..<8 {
                        let expected = scalar(accs[i], ms[i], ss[i], zp: zp, lo: lo, hi: hi)
                        XCTAssertEqual(portable[i], expected, "acc \(accs[i]) m \(ms[i]) s \(ss[i])")
                        #if arch(x86_64) && QUANTA_AVX2
                        XCTAssertEqual(avx[i], expected, "AVX2: acc \(accs[i]) m \(ms[i]) s \(ss[i])")
                        XCTAssertEqual(Int32(packed[i]), expected, "AVX2 packed store: acc \(accs[i]) m \(ms[i]) s \(ss[i])")
                        XCTAssertEqual(Int32(packed[i + 8]), expected)
                        #endif
                    }
                }
            }
        }
    }
}
