import XCTest
@testable import QuantaKernels

final class Int8TransposeConv2DTests: XCTestCase {
    struct Case {
        var shape: TensorShape
        var filter: FilterShape
        var stride: (Int, Int)
        var dilation: (Int, Int)
        var padding: Padding
        var outputPadding: (Int, Int)
    }

    static let cases: [Case] = [
        Case(shape: TensorShape(n: 2, h: 3, w: 4, c: 3), filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3), stride: (2, 2), dilation: (1, 1), padding: .uniform(1), outputPadding: (1, 1)),
        Case(shape: TensorShape(h: 4, w: 3, c: 2), filter: FilterShape(outputChannels: 3, kernelH: 2, kernelW: 2, inputChannelsPerGroup: 2), stride: (2, 2), dilation: (1, 1), padding: .zero, outputPadding: (0, 0)),
        Case(shape: TensorShape(h: 3, w: 3, c: 4), filter: FilterShape(outputChannels: 2, kernelH: 3, kernelW: 2, inputChannelsPerGroup: 4), stride: (1, 3), dilation: (2, 1), padding: Padding(top: 1, left: 0, bottom: 2, right: 1), outputPadding: (1, 2)),
    ]

    /// TFLite's scatter formulation written out: every input pixel adds
    /// `w * (in - zp)` into an Int64 scratch image of the un-cropped output, which is then
    /// cropped by the padding.
    func scatter(_ c: Case, input: [Int8], zp: Int32, weights: [Int8], bias: [Int32], m: [Int32], s: [Int32], outZp: Int32, outShape: TensorShape) -> [Int8] {
        let fullH = outShape.h + c.padding.top + c.dilation.0 * c.filter.kernelH + c.stride.0
        let fullW = outShape.w + c.padding.left + c.dilation.1 * c.filter.kernelW + c.stride.1
        let full = TensorShape(n: c.shape.n, h: fullH, w: fullW, c: outShape.c)
        var scratch = [Int64](repeating: 0, count: full.elementCount)
        for b in 0..<c.shape.n { for iy in 0..<c.shape.h { for ix in 0..<c.shape.w { for ky in 0..<c.filter.kernelH { for kx in 0..<c.filter.kernelW { for o in 0..<outShape.c { for i in 0..<c.shape.c {
            let y = iy * c.stride.0 + ky * c.dilation.0
            let x = ix * c.stride.1 + kx * c.dilation.1
            scratch[full.index(b, y, x, o)] += Int64(weights[c.filter.index(o, ky, kx, i)]) * (Int64(input[c.shape.index(b, iy, ix, i)]) - Int64(zp))
        } } } } } } }
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        for b in 0..<outShape.n { for y in 0..<outShape.h { for x in 0..<outShape.w { for o in 0..<outShape.c {
            let acc = scratch[full.index(b, y + c.padding.top, x + c.padding.left, o)] + Int64(bias[o])
            out[outShape.index(b, y, x, o)] = Int8TestData.requantize(acc, m[o], s[o], zeroPoint: outZp, clampMin: -128, clampMax: 127)
        } } } }
        return out
    }

    func testGatherFormulationEqualsTFLiteScatterFormulation() {
        var g = SplitMix64(seed: 11)
        for (index, c) in Self.cases.enumerated() {
            let outShape = TensorShape(
                n: c.shape.n,
                h: Conv2DParameters.transposedOutputSize(input: c.shape.h, kernel: c.filter.kernelH, stride: c.stride.0, dilation: c.dilation.0, padBefore: c.padding.top, padAfter: c.padding.bottom, outputPadding: c.outputPadding.0),
                w: Conv2DParameters.transposedOutputSize(input: c.shape.w, kernel: c.filter.kernelW, stride: c.stride.1, dilation: c.dilation.1, padBefore: c.padding.left, padAfter: c.padding.right, outputPadding: c.outputPadding.1),
                c: c.filter.outputChannels)
            let input = Int8TestData.int8s(c.shape.elementCount, &g)
            let weights = Int8TestData.int8s(c.filter.elementCount, &g, in: -127...127)
            let bias = Int8TestData.int32s(c.filter.outputChannels, &g, in: -5000...5000)
            let (m, s) = Int8TestData.multipliers(c.filter.outputChannels, &g, typical: 60 / (Double(c.shape.c * 2).squareRoot() * 74 * 73))
            let zp: Int32 = -7
            let expected = scatter(c, input: input, zp: zp, weights: weights, bias: bias, m: m, s: s, outZp: 5, outShape: outShape)
            var actual = [Int8](repeating: 0, count: outShape.elementCount)
            m.withUnsafeBufferPointer { mp in
                s.withUnsafeBufferPointer { sp in
                    Int8Reference.transposeConv2D(
                        input: input, inputShape: c.shape, inputZeroPoint: zp, weights: weights, filter: c.filter,
                        bias: bias, output: &actual, outputShape: outShape, strideH: c.stride.0, strideW: c.stride.1,
                        dilationH: c.dilation.0, dilationW: c.dilation.1, padding: c.padding,
                        requantization: Requantization(multipliers: mp.baseAddress!, shifts: sp.baseAddress!, channelCount: mp.count, outputZeroPoint: 5))
                }
            }
            XCTAssertEqual(actual, expected, "case \(index)")
            XCTAssertGreaterThan(Set(actual).count, 10, "case \(index)")
        }
    }
}
