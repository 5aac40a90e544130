import XCTest
@testable import QuantaKernels
#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel
#endif

/// `ShortMultiplier`'s 32-bit output stage against TFLite's (`FixedPoint`) after the zero
/// point and the int8 clamp, at the rounding ties, the clamp bounds and the Int32 edges, for
/// every right shift it accepts; and the quantizer's rounding to that form.
final class ShortMultiplierTests: XCTestCase {
    func short(_ x: Int32, _ m: Int32, _ s: Int32, zp: Int32, lo: Int32, hi: Int32) -> Int32 {
        let v = Int64(ShortMultiplier.rounded(x, multiplier: m, shift: s)) + Int64(zp)
        return Int32(min(max(v, Int64(lo)), Int64(hi)))
    }

    /// Accumulators around the ties of both roundings for multiplier `m`, shift `s`: the x
    /// nearest to `(k + 1/2) · 2^(31+e) / M` and their neighbours, plus the clamp bounds.
    func probes(_ m: Int32, _ s: Int32, using g: inout SeededGenerator) -> [Int32] {
        let e = Int64(-s)
        var xs: [Int32] = [0, 1, -1, Int32.max, Int32.min, Int32.min + 1]
        let bound = Int64(510) << e
        for b in [bound - 1, bound, bound + 1] { xs += [Int32(b), Int32(-b)] }
        for _ in 0..<24 {
            let k = Double(Int.random(in: -300...300, using: &g)) + 0.5
            let center = Int64((k * Double(Int64(1) << (31 + e)) / Double(m)).rounded())
            for d in Int64(-2)...2 { xs.append(Int32(clamping: center + d)) }
            xs.append(Int32.random(in: .min ... .max, using: &g))
        }
        return xs
    }

    func testShortFormEqualsTFLiteAfterTheClampForEveryShift() {
        var g = SeededGenerator(seed: 31)
        for shift in Int32(-21)...0 {
            let unit = Int32(1) << (9 - shift)
            for trial in 0..<40 {
                let m: Int32
                switch trial {
                case 0: m = 1 << 30
                case 1: m = Int32.max / unit * unit
                case 2: m = 0
                default: m = Int32.random(in: (1 << 30)...Int32.max, using: &g) / unit * unit
                }
                XCTAssertTrue(ShortMultiplier.applies(multiplier: m, shift: shift))
                let zp = Int32.random(in: -128...127, using: &g)
                let lo = trial % 2 == 0 ? Int32(-128) : Int32.random(in: -128...0, using: &g)
                let hi = trial % 2 == 0 ? Int32(127) : Int32.random(in: lo...127, using: &g)
                for x in probes(max(m, 1), shift, using: &g) {
                    XCTAssertEqual(short(x, m, shift, zp: zp, lo: lo, hi: hi), tfliteOutput(x, m, shift, zp: zp, lo: lo, hi: hi),
                                   "x \(x) m \(m) shift \(shift) zp \(zp)")
                }
            }
        }
    }

    /// The sign-magnitude form (the AVX2 kernels') equals the two-term form exactly, before
    /// any clamp, at the ties, the clamp bounds and the Int32 edges of every shift.
    func testSignMagnitudeFormEqualsTheTwoTermForm() {
        var g = SeededGenerator(seed: 32)
        for shift in Int32(-21)...0 {
            let unit = Int32(1) << (9 - shift)
            for trial in 0..<12 {
                let m = trial == 0 ? Int32(1 << 30) : trial == 1 ? Int32.max / unit * unit
                    : Int32.random(in: (1 << 30)...Int32.max, using: &g) / unit * unit
                for x in probes(m, shift, using: &g) {
                    XCTAssertEqual(ShortMultiplier.roundedMagnitude(x, multiplier: m, shift: shift),
                                   ShortMultiplier.rounded(x, multiplier: m, shift: shift), "x \(x) m \(m) shift \(shift)")
                }
            }
        }
    }

    /// Add's input scaling in 32 bits equals TFLite's `MBQMSmallerThanOne(d << 20, M, s)`
    /// for every `d` in -255...255 and every shift it accepts.
    func testAddInputFormEqualsTFLiteForEveryInput() {
        var g = SeededGenerator(seed: 34)
        for shift in Int32(-28)...0 {
            for trial in 0..<6 {
                let m = trial == 0 ? Int32(1 << 30) : (Int32.random(in: (1 << 30)...Int32.max, using: &g) >> 9) << 9
                XCTAssertTrue(ShortMultiplier.appliesToAddInput(multiplier: m, shift: shift, leftShift: 20))
                for d in Int32(-255)...255 {
                    let expected = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(d << 20, m, shift)
                    let got = ShortMultiplier.addInputRounded(d, multiplier: m, shift: shift)
                    if got != expected { XCTFail("d \(d) m \(m) shift \(shift): \(got) vs \(expected)"); return }
                }
            }
        }
        XCTAssertFalse(ShortMultiplier.appliesToAddInput(multiplier: 1 << 30, shift: 0, leftShift: 19))
        XCTAssertFalse(ShortMultiplier.appliesToAddInput(multiplier: (1 << 30) + 256, shift: 0, leftShift: 20))
        XCTAssertFalse(ShortMultiplier.appliesToAddInput(multiplier: 1 << 30, shift: -29, leftShift: 20))
        XCTAssertEqual(ShortMultiplier.shortenedAddInput(multiplier: Int32.max, shift: -1).multiplier, 1 << 30)
        XCTAssertEqual(ShortMultiplier.shortenedAddInput(multiplier: Int32.max, shift: -1).shift, 0)
    }

    func testAppliesOnlyToRightShiftsUpTo20AndDivisibleMultipliers() {
        XCTAssertTrue(ShortMultiplier.applies(multiplier: 1 << 30, shift: 0))
        XCTAssertTrue(ShortMultiplier.applies(multiplier: 1 << 30, shift: -21))
        XCTAssertFalse(ShortMultiplier.applies(multiplier: 1 << 30, shift: -22))
        XCTAssertFalse(ShortMultiplier.applies(multiplier: 1 << 30, shift: 1))
        XCTAssertFalse(ShortMultiplier.applies(multiplier: (1 << 30) + (1 << 18), shift: -10), "2^18 is not a multiple of 2^19")
        XCTAssertTrue(ShortMultiplier.applies(multiplier: (1 << 30) + (1 << 19), shift: -10))
        XCTAssertFalse(ShortMultiplier.applies(multiplier: Int32.min, shift: -5))
        XCTAssertFalse(ShortMultiplier.applies(multiplier: Int32.max, shift: 0))
    }

    func testShortenedKeepsAtLeastMinimumBitsAndRoundsToNearest() {
        var g = SeededGenerator(seed: 32)
        for _ in 0..<5000 {
            let real = Double.random(in: 1e-6...0.99, using: &g)
            let (m, s) = FixedPoint.quantizeMultiplier(real)
            let (m2, s2) = ShortMultiplier.shortened(multiplier: m, shift: s)
            let e = -s
            if e <= 22 - ShortMultiplier.minimumBits {
                XCTAssertTrue(ShortMultiplier.applies(multiplier: m2, shift: s2), "real \(real)")
                // The represented value moves by at most half a unit of the kept bits.
                let before = Double(m) * pow(2, Double(s - 31)), after = Double(m2) * pow(2, Double(s2 - 31))
                XCTAssertLessThanOrEqual(abs(after - before) / before, pow(2, -Double(22 - e)) + 1e-12, "real \(real)")
            } else {
                XCTAssertEqual(m2, m)
                XCTAssertEqual(s2, s)
            }
        }
        // Rounding up to 2^31 renormalizes to 2^30 with one right shift less.
        let shortened = ShortMultiplier.shortened(multiplier: Int32.max, shift: -3)
        XCTAssertEqual(shortened.multiplier, 1 << 30)
        XCTAssertEqual(shortened.shift, -2)
        // Left shifts, e = 0 overflowing to a left shift, zero: unchanged.
        XCTAssertEqual(ShortMultiplier.shortened(multiplier: 1 << 30, shift: 1).shift, 1)
        XCTAssertEqual(ShortMultiplier.shortened(multiplier: Int32.max, shift: 0).multiplier, Int32.max)
        XCTAssertEqual(ShortMultiplier.shortened(multiplier: 0, shift: 0).multiplier, 0)
    }

    /// The GEMM's short output stage (`AVX2ShortRounding`, chosen per call by
    /// `AVX2GEMMOutput.short`) and its stores against TFLite's stage.
    func testGEMMShortOutputStageEqualsTFLite() {
        #if arch(x86_64) && QUANTA_AVX2
        var g = SeededGenerator(seed: 33)
        for trial in 0..<400 {
            var m = [Int32](repeating: 0, count: 16), s = [Int32](repeating: 0, count: 16)
            for i in 0..<16 {
                s[i] = Int32.random(in: -21...0, using: &g)
                let unit = Int32(1) << (9 - s[i])
                m[i] = i == 3 ? 1 << 30 : Int32.random(in: (1 << 30)...Int32.max, using: &g) / unit * unit
            }
            var acc = [Int32](repeating: 0, count: 16)
            for i in 0..<16 { acc[i] = probes(m[i], s[i], using: &g).randomElement(using: &g)! }
            let zp = Int32.random(in: -128...127, using: &g)
            let lo = trial % 2 == 0 ? Int32(-128) : Int32.random(in: -128...0, using: &g)
            let hi = trial % 2 == 0 ? Int32(127) : Int32.random(in: lo...127, using: &g)
            let count = trial % 5 == 0 ? Int.random(in: 1...15, using: &g) : 16
            withRequantization(m, s, zp: zp, lo: lo, hi: hi) { r in
                let stage = AVX2GEMMOutput(r, first: 0, count: count)
                XCTAssertTrue(stage.short)
                let qa = AVX2ShortRounding(stage, 0, count: count), qb = AVX2ShortRounding(stage, 8, count: count - 8)
                let lanes = acc.withUnsafeBytes { (PointwiseGEMM.loadu256($0.baseAddress!), PointwiseGEMM.loadu256($0.baseAddress! + 32)) }
                var out = [Int8](repeating: 99, count: 16)
                out.withUnsafeMutableBufferPointer { stage.store16(qa.rounded(lanes.0), qb.rounded(lanes.1), $0.baseAddress!, count: count) }
                for i in 0..<count {
                    XCTAssertEqual(Int32(out[i]), tfliteOutput(acc[i], m[i], s[i], zp: zp, lo: lo, hi: hi), "acc \(acc[i]) m \(m[i]) s \(s[i])")
                }
            }
            // One channel with a full Q31 multiplier sends the whole call to the 64-bit stage.
            var full = m
            full[count - 1] |= 1
            withRequantization(full, s, zp: zp) { XCTAssertFalse(AVX2GEMMOutput($0, first: 0, count: count).short) }
        }
        #endif
    }
}
