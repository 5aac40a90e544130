import XCTest
@testable import QuantaKernels

final class Int8FullyConnectedTests: XCTestCase {
    func run(input: [Int8], zp: Int32, weights: [Int8], bias: [Int32]?, batches: Int, inputCount: Int, outputCount: Int, m: [Int32], s: [Int32], outZp: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127) -> [Int8] {
        var out = [Int8](repeating: 0, count: batches * outputCount)
        m.withUnsafeBufferPointer { mp in
            s.withUnsafeBufferPointer { sp in
                let r = Requantization(multipliers: mp.baseAddress!, shifts: sp.baseAddress!, channelCount: mp.count, outputZeroPoint: outZp, clampMin: clampMin, clampMax: clampMax)
                if let bias {
                    bias.withUnsafeBufferPointer { bp in
                        Int8Reference.fullyConnected(input: input, inputZeroPoint: zp, weights: weights, bias: bp.baseAddress!, output: &out, batches: batches, inputCount: inputCount, outputCount: outputCount, requantization: r)
                    }
                } else {
                    Int8Reference.fullyConnected(input: input, inputZeroPoint: zp, weights: weights, bias: nil, output: &out, batches: batches, inputCount: inputCount, outputCount: outputCount, requantization: r)
                }
            }
        }
        return out
    }

    func testMatchesInt64DotProducts() {
        var g = SplitMix64(seed: 21)
        let (batches, inputCount, outputCount) = (3, 37, 11)
        let input = Int8TestData.int8s(batches * inputCount, &g)
        let weights = Int8TestData.int8s(inputCount * outputCount, &g, in: -127...127)
        let bias = Int8TestData.int32s(outputCount, &g, in: -30000...30000)
        let (m, s) = Int8TestData.multipliers(outputCount, &g, typical: 60 / (Double(inputCount).squareRoot() * 74 * 73))
        let actual = run(input: input, zp: 9, weights: weights, bias: bias, batches: batches, inputCount: inputCount, outputCount: outputCount, m: m, s: s, outZp: -3, clampMin: -100, clampMax: 100)
        var expected = [Int8]()
        for b in 0..<batches {
            for o in 0..<outputCount {
                var acc = Int64(bias[o])
                for i in 0..<inputCount { acc += Int64(weights[o * inputCount + i]) * (Int64(input[b * inputCount + i]) - 9) }
                expected.append(Int8TestData.requantize(acc, m[o], s[o], zeroPoint: -3, clampMin: -100, clampMax: 100))
            }
        }
        XCTAssertEqual(actual, expected)
        XCTAssertGreaterThan(Set(actual).count, 15)
    }

    func testEqualsPointwiseConvOnOneByOneImage() {
        var g = SplitMix64(seed: 22)
        let (inputCount, outputCount) = (16, 7)
        let input = Int8TestData.int8s(2 * inputCount, &g)
        let weights = Int8TestData.int8s(inputCount * outputCount, &g, in: -127...127)
        let (m, s) = Int8TestData.multipliers(outputCount, &g, typical: 0.003)
        let fc = run(input: input, zp: -1, weights: weights, bias: nil, batches: 2, inputCount: inputCount, outputCount: outputCount, m: m, s: s, outZp: 2)
        let conv = Int8TestData.conv(input: input, shape: TensorShape(n: 2, h: 1, w: 1, c: inputCount), zeroPoint: -1, weights: weights, filter: FilterShape(outputChannels: outputCount, kernelH: 1, kernelW: 1, inputChannelsPerGroup: inputCount), bias: nil, parameters: Conv2DParameters(), multipliers: m, shifts: s, outputZeroPoint: 2)
        XCTAssertEqual(fc, conv.1)
    }
}
