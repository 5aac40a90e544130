import XCTest
@testable import QuantaKernels
#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel
#endif

/// The vectorized output stage against `FixedPoint.multiplyByQuantizedMultiplier` lane by lane,
/// including the rounding edges (ties of SRDHM and RDBPOT on negative values), the
/// `Int32.min²` saturation, wrapping left shifts and every shift in -31...31.
final class OptimizedRequantizationTests: XCTestCase {
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
                    // The GEMM's store of these rounded lanes: saturating packs, zero point in
                    // int16, clamp on bytes.
                    var packed = [Int8](repeating: 0, count: 16)
                    let y = q.rounded(unsafeBitCast(accs, to: SIMD4<Int64>.self))
                    packed.withUnsafeMutableBufferPointer { AVX2GEMMOutput(r, first: 0, count: 8).store16(y, y, $0.baseAddress!, count: 16) }
                    #endif
                    for i in 0..<8 {
                        let expected = tfliteOutput(accs[i], ms[i], ss[i], zp: zp, lo: lo, hi: hi)
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

    /// The GEMM's output stage (`AVX2GEMMOutput` per call, `AVX2RoundingBlock` per 8
    /// channels, the abs/sign RDBPOT, the two-row and 8-lane stores) against `FixedPoint`
    /// for every shift in -31...31 (right shift 0 included) on the edge accumulators
    /// (Int32.min/max, ties), in the plain (no left shift, no saturation) and general
    /// modes, with partial column counts.
    func testGEMMOutputStageEqualsFixedPointForEveryShiftAndEdge() {
        #if arch(x86_64) && QUANTA_AVX2
        var g = SeededGenerator(seed: 12)
        let edges: [Int32] = [0, 1, -1, 2, -2, 3, -3, Int32.min, Int32.max, Int32.min + 1, Int32.max - 1,
                              1 << 30, -(1 << 30), (1 << 30) - 1, -(1 << 30) + 1, 0x4000_0001, -0x4000_0001,
                              1 << 16, -(1 << 16), (1 << 16) + (1 << 15), -(1 << 16) - (1 << 15)]
        for shift in Int32(-31)...31 {
            for trial in 0..<24 {
                var m = [Int32](repeating: 0, count: 16), s = [Int32](repeating: 0, count: 16)
                var acc = [Int32](repeating: 0, count: 32)
                for i in 0..<16 {
                    switch Int.random(in: 0..<5, using: &g) {
                    case 0: m[i] = 1 << 30
                    case 1: m[i] = Int32.max
                    case 2: m[i] = trial % 4 == 0 ? Int32.min : Int32.random(in: 0...Int32.max, using: &g)
                    default: m[i] = Int32.random(in: (1 << 30)...Int32.max, using: &g)
                    }
                    // Mostly this shift; the general mode also sees a left shift in another lane.
                    s[i] = i == 5 && trial % 3 == 0 ? Int32.random(in: -31...31, using: &g) : shift
                }
                for i in 0..<32 {
                    acc[i] = Bool.random(using: &g) ? edges.randomElement(using: &g)! : Int32.random(in: .min ... .max, using: &g)
                }
                let zp = Int32.random(in: -128...127, using: &g)
                let lo = trial % 2 == 0 ? Int32(-128) : Int32.random(in: -128...0, using: &g)
                let hi = trial % 2 == 0 ? Int32(127) : Int32.random(in: 0...127, using: &g)
                let count = trial % 5 == 0 ? Int.random(in: 1...15, using: &g) : 16
                m.withUnsafeBufferPointer { mp in
                    s.withUnsafeBufferPointer { sp in
                        let r = Requantization(multipliers: mp.baseAddress!, shifts: sp.baseAddress!, channelCount: 16,
                                               outputZeroPoint: zp, clampMin: lo, clampMax: hi)
                        let stage = AVX2GEMMOutput(r, first: 0, count: count)
                        let general = stage.shiftsLeft || stage.maySaturate
                        XCTAssertEqual(stage.shiftsLeft, s[0..<count].contains { $0 > 0 })
                        XCTAssertEqual(stage.maySaturate, m[0..<count].contains(Int32.min))
                        XCTAssertEqual(stage.short, (0..<count).allSatisfy { ShortMultiplier.applies(multiplier: m[$0], shift: s[$0]) })
                        let qa = stage.block(0, count: count), qb = stage.block(8, count: count - 8)
                        func lanes(_ i: Int) -> __m256i {
                            acc.withUnsafeBytes { PointwiseGEMM.loadu256($0.baseAddress! + 32 * i) }
                        }
                        let y0a = qa.rounded(lanes(0), shiftsLeft: general && stage.shiftsLeft, maySaturate: general && stage.maySaturate)
                        let y0b = qb.rounded(lanes(1), shiftsLeft: general && stage.shiftsLeft, maySaturate: general && stage.maySaturate)
                        let y1a = qa.rounded(lanes(2), shiftsLeft: general && stage.shiftsLeft, maySaturate: general && stage.maySaturate)
                        let y1b = qb.rounded(lanes(3), shiftsLeft: general && stage.shiftsLeft, maySaturate: general && stage.maySaturate)
                        var two = [Int8](repeating: 99, count: 32), one = [Int8](repeating: 99, count: 16), eight = [Int8](repeating: 99, count: 8)
                        two.withUnsafeMutableBufferPointer { stage.store2x16(y0a, y0b, y1a, y1b, $0.baseAddress!, $0.baseAddress! + 16, count: count) }
                        one.withUnsafeMutableBufferPointer { stage.store16(y1a, y1b, $0.baseAddress!, count: count) }
                        eight.withUnsafeMutableBufferPointer { stage.store8(y0a, $0.baseAddress!, count: min(8, count)) }
                        for i in 0..<16 {
                            let e0 = tfliteOutput(acc[i], m[i], s[i], zp: zp, lo: lo, hi: hi)
                            let e1 = tfliteOutput(acc[16 + i], m[i], s[i], zp: zp, lo: lo, hi: hi)
                            let what = "shift \(s[i]) m \(m[i]) acc \(acc[i]) / \(acc[16 + i]) count \(count) lane \(i)"
                            if i < count {
                                XCTAssertEqual(Int32(two[i]), e0, what)
                                XCTAssertEqual(Int32(two[16 + i]), e1, what)
                                XCTAssertEqual(Int32(one[i]), e1, what)
                                if i < 8 { XCTAssertEqual(Int32(eight[i]), e0, what) }
                            } else {
                                XCTAssertEqual(two[i], 99, "store past count")
                                XCTAssertEqual(two[16 + i], 99, "store past count")
                                XCTAssertEqual(one[i], 99, "store past count")
                                if i < 8 { XCTAssertEqual(eight[i], 99, "store past count") }
                            }
                        }
                    }
                }
            }
        }
        #endif
    }
}
