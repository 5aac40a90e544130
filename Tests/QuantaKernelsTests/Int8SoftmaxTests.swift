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
}
