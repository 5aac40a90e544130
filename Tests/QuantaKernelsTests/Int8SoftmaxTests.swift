import Foundation
import XCTest
@testable import QuantaKernels

final class Int8SoftmaxTests: XCTestCase {
    /// `table[d] = round(exp(-d * inputScale) * 65536)`, as quantization writes it.
    func table(inputScale: Float) -> [Int32] {
        (0..<256).map { d in Int32((Double(FloatMath.exp(-Float(d) * inputScale)) * 65536).rounded()) }
    }

    func softmax(_ input: [Int8], rows: Int, channels: Int, scale: Float) -> [Int8] {
        var out = [Int8](repeating: 0, count: input.count)
        Int8Reference.softmax(input: input, output: &out, rows: rows, channels: channels, expTable: table(inputScale: scale))
        return out
    }

    func testUniformRowGivesOneOverChannels() {
        // Four equal inputs: 65536 * 256 / (4 * 65536) = 64 exactly → 64 - 128 = -64.
        XCTAssertEqual(softmax([5, 5, 5, 5], rows: 1, channels: 4, scale: 0.1), [-64, -64, -64, -64])
        // Three: 256/3 = 85.33 → 85 → -43.
        XCTAssertEqual(softmax([-7, -7, -7], rows: 1, channels: 3, scale: 0.1), [-43, -43, -43])
    }

    func testHandComputedTwoClasses() {
        // scale ln(2)/4: d = 4 gives exp(-ln 2) = 1/2 → table 32768. Row [10, 6]: sum 98304;
        // 65536*256/98304 = 170.67 → 171 → 43; 32768*256/98304 = 85.33 → 85 → -43.
        let t = table(inputScale: Float(0.6931471805599453 / 4))
        XCTAssertEqual(t[0], 65536)
        XCTAssertEqual(t[4], 32768)
        XCTAssertEqual(softmax([10, 6], rows: 1, channels: 2, scale: Float(0.6931471805599453 / 4)), [43, -43])
    }

    func testCertainClassClampsTo127() {
        // exp(-255 * 0.5) underflows the table to 0: the maximum gets 256/256 → 128 → 127.
        XCTAssertEqual(softmax([127, -128, -128], rows: 1, channels: 3, scale: 0.5), [127, -128, -128])
    }

    func testRowsSumToAbout256AndAreMonotonic() {
        var g = SplitMix64(seed: 51)
        let (rows, channels) = (6, 10)
        for scale: Float in [0.02, 0.1, 0.4] {
            let input = Int8TestData.int8s(rows * channels, &g)
            let out = softmax(input, rows: rows, channels: channels, scale: scale)
            for r in 0..<rows {
                let row = Array(input[(r * channels)..<((r + 1) * channels)])
                let probs = Array(out[(r * channels)..<((r + 1) * channels)])
                let sum = probs.reduce(0) { $0 + Int($1) + 128 }
                XCTAssertLessThanOrEqual(abs(sum - 256), channels / 2, "scale \(scale) row \(r)")
                for i in 0..<channels { for j in 0..<channels where row[i] < row[j] {
                    XCTAssertLessThanOrEqual(probs[i], probs[j])
                } }
                // Within one unit of the float softmax of the dequantized inputs.
                let m = row.max()!
                let e = row.map { FloatMath.exp(Float(Int($0) - Int(m)) * scale) }
                let total = e.reduce(0, +)
                for i in 0..<channels {
                    XCTAssertLessThanOrEqual(abs(Float(Int(probs[i]) + 128) - min(e[i] / total * 256, 255)), 1, "scale \(scale) row \(r)")
                }
            }
        }
    }

    func testInPlace() {
        var g = SplitMix64(seed: 52)
        let input = Int8TestData.int8s(24, &g)
        let expected = softmax(input, rows: 3, channels: 8, scale: 0.05)
        var data = input
        let t = table(inputScale: 0.05)
        data.withUnsafeMutableBufferPointer { p in
            Int8Reference.softmax(input: p.baseAddress!, output: p.baseAddress!, rows: 3, channels: 8, expTable: t)
        }
        XCTAssertEqual(data, expected)
    }

    /// `naturalLog` (no libm) against the host's `log` in double: within one float ulp over
    /// 1...1e30 and at the powers of two and √2 where its range reduction switches.
    func testNaturalLogIsWithinOneUlp() {
        var g = SplitMix64(seed: 8)
        var values: [Float] = [1, 2, 4, 1.4142135, 1.4142137, 3, 255, 256, 1e30]
        for _ in 0..<2000 { values.append(Float(1 + Double(g.next() % 1_000_000_000) / 1000)) }
        for x in values {
            let exact = Float(Foundation.log(Double(x)))
            XCTAssertLessThanOrEqual(abs(Int8Reference.naturalLog(x) - exact), exact.ulp, "log(\(x))")
        }
    }

    /// The int8 log-softmax against the float one of the same dequantized inputs: within half
    /// an output step plus the float table's rounding.
    func testLogSoftmaxFollowsTheFloatDefinition() {
        var g = SplitMix64(seed: 52)
        let (rows, channels) = (5, 9)
        for (inScale, outScale, zeroPoint) in [(Float(0.05), Float(0.1), Int32(127)), (0.2, 0.08, 100)] {
            let input = (0..<(rows * channels)).map { _ in Int8(truncatingIfNeeded: g.next()) }
            let table = (0...255).map { d in FloatMath.exp(-inScale * Float(d)) }
            var out = [Int8](repeating: 0, count: input.count)
            Int8Reference.logSoftmax(input: input, output: &out, rows: rows, channels: channels, table: table,
                                     inputScale: inScale, outputScale: outScale, outputZeroPoint: zeroPoint)
            for r in 0..<rows {
                let x = (0..<channels).map { Double(inScale) * Double(input[r * channels + $0]) }
                let m = x.max()!
                let logSum = Foundation.log(x.map { Foundation.exp($0 - m) }.reduce(0, +))
                for c in 0..<channels {
                    let expected = (x[c] - m - logSum) / Double(outScale) + Double(zeroPoint)
                    let clamped = min(127, max(-128, expected))
                    XCTAssertLessThanOrEqual(abs(Double(out[r * channels + c]) - clamped), 0.5 + 1e-3, "row \(r), channel \(c)")
                }
            }
        }
    }
}
