import XCTest
@testable import QuantaKernels

/// The int8 reference kernels against the float reference kernels, for every convolution
/// family, on random data quantized the way Quanta's quantizer does it: activations
/// asymmetric per tensor (`Quantizer.chooseParameters` over the observed range), weights
/// symmetric per output channel in [-127, 127], bias int32 at scale `inScale * wScale[c]`,
/// the output range taken from the float result.
///
/// The float kernel runs on the *dequantized* int8 inputs, weights and bias, so the only
/// differences left are the int8 output stage and float rounding. Error bound, in real
/// units, per output element (after clamping the float value to the representable output
/// range `outScale * (-128 - zp) ... outScale * (127 - zp)`, which can only shrink the error):
///
///     bound = outScale * (0.5 + 0.5 * 2^-r)     // RDBPOT rounding + the earlier SRDHM rounding on a 2^-r grid
///                                               // (r = the smallest positive right shift; the term is 0 when r == 0)
///           + (2^-31 + 2^-52) * S               // Q31 multiplier rounding (relative ≤ 2^-31, M ≥ 2^30) + Double rounding
///           + (K + 3) * 2^-24 * S               // float32 summation of K products + bias, and the
///                                               // rounding of dequantized inputs/weights/bias (≤ 2u per product)
///
/// where `S = Σ |x| * |w| + |bias|` for that output (computed by running the float kernel on
/// absolute values) and `K` the number of products. The integer sum itself is exact.
/// Measured maximum errors (these seeds), in units of outScale: standard 3×3 0.4996,
/// pointwise 0.4995, grouped 0.4993, depthwise ×1 0.4919, depthwise ×2 0.4975, dilation 2
/// 0.4938, stride 2 0.4966, transposed 0.4998, fully connected 0.4963; the smallest
/// per-element bounds are 0.501–0.502 outScale.
final class Int8VersusFloatTests: XCTestCase {
    enum Kind {
        case conv(Conv2DParameters)
        case transposed(strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padding: Padding, outputPadding: Int)
        case fullyConnected
    }

    struct Family {
        var name: String
        var inputShape: TensorShape
        var filter: FilterShape
        var kind: Kind
    }

    static let families: [Family] = [
        Family(name: "standard 3x3", inputShape: TensorShape(h: 8, w: 8, c: 4), filter: FilterShape(outputChannels: 6, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 4), kind: .conv(Conv2DParameters(padding: .uniform(1)))),
        Family(name: "pointwise", inputShape: TensorShape(h: 6, w: 6, c: 16), filter: FilterShape(outputChannels: 12, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 16), kind: .conv(Conv2DParameters())),
        Family(name: "grouped (G=4)", inputShape: TensorShape(h: 7, w: 7, c: 8), filter: FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 2), kind: .conv(Conv2DParameters(padding: .uniform(1), groups: 4))),
        Family(name: "depthwise x1", inputShape: TensorShape(h: 8, w: 8, c: 6), filter: FilterShape(outputChannels: 6, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1), kind: .conv(Conv2DParameters(padding: .uniform(1), groups: 6))),
        Family(name: "depthwise x2", inputShape: TensorShape(h: 8, w: 8, c: 4), filter: FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1), kind: .conv(Conv2DParameters(padding: .uniform(1), groups: 4))),
        Family(name: "dilation 2", inputShape: TensorShape(h: 9, w: 9, c: 3), filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3), kind: .conv(Conv2DParameters(dilationH: 2, dilationW: 2, padding: .uniform(2)))),
        Family(name: "stride 2", inputShape: TensorShape(h: 9, w: 8, c: 4), filter: FilterShape(outputChannels: 5, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 4), kind: .conv(Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1)))),
        Family(name: "transposed", inputShape: TensorShape(h: 4, w: 4, c: 3), filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3), kind: .transposed(strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, padding: .uniform(1), outputPadding: 1)),
        Family(name: "fully connected", inputShape: TensorShape(n: 3, h: 1, w: 1, c: 64), filter: FilterShape(outputChannels: 10, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 64), kind: .fullyConnected),
    ]

    func outputShape(_ f: Family) -> TensorShape {
        switch f.kind {
        case .conv(let p):
            return p.outputShape(input: f.inputShape, filter: f.filter)
        case .transposed(let sh, let sw, let dh, let dw, let pad, let op):
            return TensorShape(
                n: f.inputShape.n,
                h: Conv2DParameters.transposedOutputSize(input: f.inputShape.h, kernel: f.filter.kernelH, stride: sh, dilation: dh, padBefore: pad.top, padAfter: pad.bottom, outputPadding: op),
                w: Conv2DParameters.transposedOutputSize(input: f.inputShape.w, kernel: f.filter.kernelW, stride: sw, dilation: dw, padBefore: pad.left, padAfter: pad.right, outputPadding: op),
                c: f.filter.outputChannels)
        case .fullyConnected:
            return TensorShape(n: f.inputShape.n, h: 1, w: 1, c: f.filter.outputChannels)
        }
    }

    /// Products per output (upper bound for transposed convolution).
    func productCount(_ f: Family) -> Int { f.filter.kernelH * f.filter.kernelW * f.filter.inputChannelsPerGroup }

    func runFloat(_ f: Family, _ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
        let os = outputShape(f)
        var out = [Float](repeating: 0, count: os.elementCount)
        switch f.kind {
        case .conv(let p):
            FloatReference.conv2D(input: x, inputShape: f.inputShape, weights: w, filter: f.filter, bias: b, output: &out, outputShape: os, parameters: p, clamp: .none)
        case .transposed(let sh, let sw, let dh, let dw, let pad, _):
            FloatReference.transposeConv2D(input: x, inputShape: f.inputShape, weights: w, filter: f.filter, bias: b, output: &out, outputShape: os, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padding: pad, clamp: .none)
        case .fullyConnected:
            FloatReference.fullyConnected(input: x, weights: w, bias: b, output: &out, batches: f.inputShape.n, inputCount: f.inputShape.c, outputCount: f.filter.outputChannels, clamp: .none)
        }
        return out
    }

    func runInt8(_ f: Family, _ x: [Int8], _ zp: Int32, _ w: [Int8], _ b: [Int32], _ m: [Int32], _ s: [Int32], _ outZp: Int32) -> [Int8] {
        let os = outputShape(f)
        var out = [Int8](repeating: 0, count: os.elementCount)
        m.withUnsafeBufferPointer { mp in
            s.withUnsafeBufferPointer { sp in
                let r = Requantization(multipliers: mp.baseAddress!, shifts: sp.baseAddress!, channelCount: mp.count, outputZeroPoint: outZp)
                switch f.kind {
                case .conv(let p):
                    Int8Reference.conv2D(input: x, inputShape: f.inputShape, inputZeroPoint: zp, weights: w, filter: f.filter, bias: b, output: &out, outputShape: os, parameters: p, requantization: r)
                case .transposed(let sh, let sw, let dh, let dw, let pad, _):
                    Int8Reference.transposeConv2D(input: x, inputShape: f.inputShape, inputZeroPoint: zp, weights: w, filter: f.filter, bias: b, output: &out, outputShape: os, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padding: pad, requantization: r)
                case .fullyConnected:
                    Int8Reference.fullyConnected(input: x, inputZeroPoint: zp, weights: w, bias: b, output: &out, batches: f.inputShape.n, inputCount: f.inputShape.c, outputCount: f.filter.outputChannels, requantization: r)
                }
            }
        }
        return out
    }

    struct Measurement {
        var maxError: Float
        var bound: Float
        var outScale: Float
    }

    func measure(_ f: Family, seed: UInt64) -> Measurement {
        var g = SplitMix64(seed: seed)
        func uniform(_ lo: Float, _ hi: Float) -> Float { Float.random(in: lo..<hi, using: &g) }

        // Activations: asymmetric range, per-tensor parameters from the observed range.
        let x = (0..<f.inputShape.elementCount).map { _ in uniform(-1, 3) }
        let qIn = Quantizer.chooseParameters(min: x.min()!, max: x.max()!)
        let xq = x.map { Quantizer.quantize($0, qIn) }
        let xdq = xq.map { Quantizer.dequantize($0, qIn) }

        // Weights: per output channel magnitude, symmetric per-channel quantization.
        let channels = f.filter.outputChannels
        let perChannel = f.filter.elementCount / channels
        var wq = [Int8](), wdq = [Float](), wScale = [Float]()
        for _ in 0..<channels {
            let magnitude = uniform(0.05, 1)
            let w = (0..<perChannel).map { _ in uniform(-magnitude, magnitude) }
            let scale = w.map { abs($0) }.max()! / 127
            wScale.append(scale)
            for v in w {
                let q = Int8(max(-127, min(127, (v / scale).rounded(.toNearestOrAwayFromZero))))
                wq.append(q)
                wdq.append(Float(q) * scale)
            }
        }
        let biasScales = wScale.map { Double(qIn.scale) * Double($0) }
        let bq = biasScales.map { Int32((Double(uniform(-0.5, 0.5)) / $0).rounded(.toNearestOrAwayFromZero)) }
        let bdq = zip(bq, biasScales).map { Float(Double($0) * $1) }

        let y = runFloat(f, xdq, wdq, bdq)
        let magnitudes = runFloat(f, xdq.map(abs), wdq.map(abs), bdq.map(abs))
        let qOut = Quantizer.chooseParameters(min: y.min()!, max: y.max()!)
        var m = [Int32](), s = [Int32]()
        var smallestRightShift = Int32.max
        for c in 0..<channels {
            let q = FixedPoint.quantizeMultiplier(Double(qIn.scale) * Double(wScale[c]) / Double(qOut.scale))
            m.append(q.multiplier)
            s.append(q.shift)
            if q.shift < 0 { smallestRightShift = min(smallestRightShift, -q.shift) }
        }
        let yq = runInt8(f, xq, qIn.zeroPoint, wq, bq, m, s, qOut.zeroPoint)

        let representableMin = qOut.scale * Float(-128 - qOut.zeroPoint)
        let representableMax = qOut.scale * Float(127 - qOut.zeroPoint)
        let doubleRounding = smallestRightShift == Int32.max ? 0 : 0.5 * Double.pow2(-Int(smallestRightShift))
        let u = Double.pow2(-24)
        var worst = Measurement(maxError: 0, bound: .infinity, outScale: qOut.scale)
        for i in 0..<y.count {
            let expected = min(max(y[i], representableMin), representableMax)
            let error = abs(Quantizer.dequantize(yq[i], qOut) - expected)
            let sum = Double(magnitudes[i]) * 1.001
            let bound = Double(qOut.scale) * (0.5 + doubleRounding)
                + (Double.pow2(-31) + Double.pow2(-52)) * sum
                + Double(productCount(f) + 3) * u * sum
            XCTAssertLessThanOrEqual(Double(error), bound, "\(f.name): element \(i)")
            if error > worst.maxError { worst.maxError = error }
            worst.bound = min(worst.bound, Float(bound))
        }
        // The comparison is meaningful: outputs use most of the int8 range.
        XCTAssertGreaterThan(Set(yq).count, min(100, yq.count / 3), f.name)
        return worst
    }

    func testEveryConvFamilyIsWithinDerivedBoundOfFloat() {
        var report = [String]()
        for (index, family) in Self.families.enumerated() {
            let r = measure(family, seed: UInt64(100 + index))
            report.append("\(family.name): max error \(r.maxError) = \(r.maxError / r.outScale) outScale (smallest per-element bound \(r.bound / r.outScale) outScale)")
        }
        print("Int8VersusFloat:\n  " + report.joined(separator: "\n  "))
    }
}

extension Double {
    /// 2^e, exact.
    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
}
