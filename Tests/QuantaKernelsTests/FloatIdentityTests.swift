import XCTest
@testable import QuantaKernels

/// Identities between float reference kernels: two different computations of the same
/// mathematical result must agree (exactly where the summation order is the same, else
/// within a few ulps).
final class FloatIdentityTests: XCTestCase {
    private var rng = TestRandom(seed: 0x5eed)

    func testGroupedConvEqualsPerGroupConvsConcatenated() {
        for (c, o, g, k, stride) in [(8, 12, 4, 3, 1), (6, 6, 3, 3, 2), (4, 8, 2, 1, 1), (9, 6, 3, 2, 1)] {
            let shape = TensorShape(h: 5, w: 6, c: c)
            let x = rng.floats(shape.elementCount)
            let filter = FilterShape(outputChannels: o, kernelH: k, kernelW: k, inputChannelsPerGroup: c / g)
            let w = rng.floats(filter.elementCount)
            let bias = rng.floats(o)
            let p = Conv2DParameters(strideH: stride, strideW: stride, padding: Padding(top: 1, left: 0, bottom: 0, right: 1), groups: g)
            let (whole, outShape) = floatConv2D(x, shape, w, filter, bias: bias, parameters: p)

            var parts: [[Float]] = []
            let og = o / g, cg = c / g
            for group in 0..<g {
                let xg = sliced(x, channels: c, start: group * cg, count: cg, pixels: shape.h * shape.w, fill: .nan)
                let wg = Array(w[(group * og * k * k * cg)..<((group + 1) * og * k * k * cg)])
                var pg = p
                pg.groups = 1
                let (yg, _) = floatConv2D(xg, TensorShape(h: 5, w: 6, c: cg), wg,
                                          FilterShape(outputChannels: og, kernelH: k, kernelW: k, inputChannelsPerGroup: cg),
                                          bias: Array(bias[(group * og)..<((group + 1) * og)]), parameters: pg)
                parts.append(yg)
            }
            let joined = concatenated(parts, channels: Array(repeating: og, count: g), pixels: outShape.h * outShape.w, fill: .nan)
            XCTAssertEqual(whole, joined, "c \(c) o \(o) g \(g) k \(k)")
        }
    }

    /// A grouped convolution equals a standard one whose filter is zero outside each group's block.
    func testGroupedConvEqualsStandardConvWithBlockDiagonalFilter() {
        let (c, o, g) = (6, 9, 3)
        let shape = TensorShape(n: 2, h: 4, w: 4, c: c)
        let x = rng.floats(shape.elementCount)
        let filter = FilterShape(outputChannels: o, kernelH: 3, kernelW: 3, inputChannelsPerGroup: c / g)
        let w = rng.floats(filter.elementCount)
        let full = FilterShape(outputChannels: o, kernelH: 3, kernelW: 3, inputChannelsPerGroup: c)
        var wFull = [Float](repeating: 0, count: full.elementCount)
        for oc in 0..<o {
            let group = oc / (o / g)
            for ky in 0..<3 { for kx in 0..<3 { for i in 0..<(c / g) {
                wFull[full.index(oc, ky, kx, group * (c / g) + i)] = w[filter.index(oc, ky, kx, i)]
            } } }
        }
        let p = Conv2DParameters(padding: .uniform(1), groups: g)
        var pFull = p
        pFull.groups = 1
        assertClose(floatConv2D(x, shape, w, filter, parameters: p).data,
                    floatConv2D(x, shape, wFull, full, parameters: pFull).data, relative: 1e-6)
    }

    /// Depthwise (G = C, depth multiplier M) equals grouped convolution with C groups of one
    /// input channel, computed as C independent single-channel convolutions.
    func testDepthwiseWithMultiplierEqualsOneConvPerChannel() {
        let (c, m) = (3, 2)
        let shape = TensorShape(h: 6, w: 5, c: c)
        let x = rng.floats(shape.elementCount)
        let filter = FilterShape(outputChannels: c * m, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
        let w = rng.floats(filter.elementCount)
        let p = Conv2DParameters(strideH: 2, strideW: 1, padding: .uniform(1), groups: c)
        let (dw, outShape) = floatConv2D(x, shape, w, filter, parameters: p)
        var parts: [[Float]] = []
        for ch in 0..<c {
            let xc = sliced(x, channels: c, start: ch, count: 1, pixels: 30, fill: .nan)
            var p1 = p
            p1.groups = 1
            parts.append(floatConv2D(xc, TensorShape(h: 6, w: 5, c: 1), Array(w[(ch * m * 9)..<((ch + 1) * m * 9)]),
                                     FilterShape(outputChannels: m, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                     parameters: p1).data)
        }
        XCTAssertEqual(dw, concatenated(parts, channels: [m, m, m], pixels: outShape.h * outShape.w, fill: .nan))
    }

    /// A 1×K convolution followed by a K×1 convolution (padding split between them) equals
    /// the K×K convolution with the outer-product kernel: depthwise, per channel.
    func testOneByKThenKByOneEqualsRankOneKByK() {
        for k in [3, 5] {
            let c = 4
            let shape = TensorShape(h: 7, w: 6, c: c)
            let x = rng.floats(shape.elementCount)
            let row = rng.floats(c * k), col = rng.floats(c * k)
            let half = k / 2
            let (mid, midShape) = floatConv2D(x, shape, row,
                                              FilterShape(outputChannels: c, kernelH: 1, kernelW: k, inputChannelsPerGroup: 1),
                                              parameters: Conv2DParameters(padding: Padding(top: 0, left: half, bottom: 0, right: half), groups: c))
            let (two, _) = floatConv2D(mid, midShape, col,
                                       FilterShape(outputChannels: c, kernelH: k, kernelW: 1, inputChannelsPerGroup: 1),
                                       parameters: Conv2DParameters(padding: Padding(top: half, left: 0, bottom: half, right: 0), groups: c))
            let square = FilterShape(outputChannels: c, kernelH: k, kernelW: k, inputChannelsPerGroup: 1)
            var outer = [Float](repeating: 0, count: square.elementCount)
            for ch in 0..<c { for ky in 0..<k { for kx in 0..<k {
                outer[square.index(ch, ky, kx, 0)] = col[ch * k + ky] * row[ch * k + kx]
            } } }
            let (one, _) = floatConv2D(x, shape, outer, square, parameters: Conv2DParameters(padding: .uniform(half), groups: c))
            assertClose(two, one, relative: 1e-5, "k \(k)")
        }
    }

    func testGlobalDepthwiseEqualsPerChannelWeightedSum() {
        let shape = TensorShape(n: 2, h: 7, w: 7, c: 5)
        let x = rng.floats(shape.elementCount)
        let filter = FilterShape(outputChannels: 5, kernelH: 7, kernelW: 7, inputChannelsPerGroup: 1)
        let w = rng.floats(filter.elementCount)
        let (out, outShape) = floatConv2D(x, shape, w, filter, parameters: Conv2DParameters(groups: 5))
        XCTAssertEqual(outShape, TensorShape(n: 2, h: 1, w: 1, c: 5))
        for b in 0..<2 {
            for ch in 0..<5 {
                var sum: Float = 0
                for y in 0..<7 { for xx in 0..<7 { sum += x[shape.index(b, y, xx, ch)] * w[filter.index(ch, y, xx, 0)] } }
                XCTAssertEqual(out[b * 5 + ch], sum, accuracy: 1e-5)
            }
        }
    }

    func testPadThenConvWithoutPaddingEqualsConvWithPadding() {
        for (padding, stride, groups) in [(Padding.uniform(1), 1, 1), (Padding(top: 0, left: 1, bottom: 2, right: 0), 2, 4),
                                          (Padding(top: 2, left: 2, bottom: 2, right: 2), 1, 2)] {
            let shape = TensorShape(n: 2, h: 5, w: 6, c: 4)
            let x = rng.floats(shape.elementCount)
            let filter = FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 4 / groups)
            let w = rng.floats(filter.elementCount)
            let bias = rng.floats(4)
            let p = Conv2DParameters(strideH: stride, strideW: stride, padding: padding, groups: groups)
            let direct = floatConv2D(x, shape, w, filter, bias: bias, parameters: p)
            let (xp, padShape) = padded(x, shape, padding, value: Float(0))
            var p0 = p
            p0.padding = .zero
            let viaPad = floatConv2D(xp, padShape, w, filter, bias: bias, parameters: p0)
            XCTAssertEqual(direct.shape, viaPad.shape)
            XCTAssertEqual(direct.data, viaPad.data, "padding \(padding) stride \(stride)")
        }
    }

    /// Transposed convolution equals: insert stride-1 zeros between input pixels, pad by
    /// dilation·(k-1) - pad, and run a stride-1 convolution with the spatially flipped
    /// kernel and input/output channels swapped.
    func testTransposedConvEqualsZeroInsertionThenConvWithFlippedKernel() {
        for (stride, pad, k, dil) in [(2, 1, 3, 1), (2, 0, 3, 1), (1, 0, 2, 1), (3, 1, 4, 1), (1, 1, 3, 2)] {
            let (ci, co) = (3, 2)
            let inShape = TensorShape(h: 3, w: 4, c: ci)
            let x = rng.floats(inShape.elementCount)
            let filter = FilterShape(outputChannels: co, kernelH: k, kernelW: k, inputChannelsPerGroup: ci)
            let w = rng.floats(filter.elementCount)
            let outH = Conv2DParameters.transposedOutputSize(input: 3, kernel: k, stride: stride, dilation: dil, padBefore: pad, padAfter: pad)
            let outW = Conv2DParameters.transposedOutputSize(input: 4, kernel: k, stride: stride, dilation: dil, padBefore: pad, padAfter: pad)
            let outShape = TensorShape(h: outH, w: outW, c: co)
            let t = floatTransposeConv2D(x, inShape, w, filter, bias: [0.25, -0.5], outputShape: outShape,
                                         strideH: stride, strideW: stride, dilationH: dil, dilationW: dil,
                                         padding: .uniform(pad))
            // Zero insertion.
            let zShape = TensorShape(h: (3 - 1) * stride + 1, w: (4 - 1) * stride + 1, c: ci)
            var z = [Float](repeating: 0, count: zShape.elementCount)
            for y in 0..<3 { for xx in 0..<4 { for ch in 0..<ci {
                z[zShape.index(0, y * stride, xx * stride, ch)] = x[inShape.index(0, y, xx, ch)]
            } } }
            // Flipped kernel, same OHWI layout (O = co, I = ci).
            var flipped = [Float](repeating: 0, count: filter.elementCount)
            for o in 0..<co { for ky in 0..<k { for kx in 0..<k { for i in 0..<ci {
                flipped[filter.index(o, ky, kx, i)] = w[filter.index(o, k - 1 - ky, k - 1 - kx, i)]
            } } } }
            let q = dil * (k - 1) - pad
            let (c, cShape) = floatConv2D(z, zShape, flipped, filter, bias: [0.25, -0.5],
                                          parameters: Conv2DParameters(dilationH: dil, dilationW: dil, padding: .uniform(q)))
            XCTAssertEqual(cShape, outShape, "stride \(stride) pad \(pad) k \(k)")
            assertClose(t, c, relative: 1e-5, "stride \(stride) pad \(pad) k \(k) dilation \(dil)")
        }
    }

    func testFullyConnectedEqualsPointwiseConvOnOnePixel() {
        let (n, i, o) = (3, 10, 7)
        let x = rng.floats(n * i), w = rng.floats(o * i), bias = rng.floats(o)
        var fc = [Float](repeating: .nan, count: n * o)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            fc.withUnsafeMutableBufferPointer { op in
                FloatReference.fullyConnected(input: xp.baseAddress!, weights: wp.baseAddress!, bias: bp.baseAddress!,
                                              output: op.baseAddress!, batches: n, inputCount: i, outputCount: o, clamp: .relu6)
            }
        } } }
        let conv = floatConv2D(x, TensorShape(n: n, h: 1, w: 1, c: i), w,
                               FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: i),
                               bias: bias, clamp: .relu6)
        XCTAssertEqual(fc, conv.data)
    }

    func testAveragePoolWithoutPaddingEqualsDepthwiseConvWithUniformWeights() {
        let shape = TensorShape(n: 1, h: 6, w: 6, c: 3)
        let x = rng.floats(shape.elementCount)
        let pool = PoolParameters(kernelH: 2, kernelW: 3, strideH: 2, strideW: 1)
        let outShape = pool.outputShape(input: shape)
        var avg = [Float](repeating: .nan, count: outShape.elementCount)
        x.withUnsafeBufferPointer { xp in avg.withUnsafeMutableBufferPointer { op in
            FloatReference.averagePool(input: xp.baseAddress!, inputShape: shape, output: op.baseAddress!,
                                       outputShape: outShape, parameters: pool, clamp: .none)
        } }
        let conv = floatConv2D(x, shape, [Float](repeating: 1.0 / 6, count: 18),
                               FilterShape(outputChannels: 3, kernelH: 2, kernelW: 3, inputChannelsPerGroup: 1),
                               parameters: Conv2DParameters(strideH: 2, strideW: 1, groups: 3))
        assertClose(avg, conv.data, relative: 1e-6)
    }

    func testAveragePoolExcludesPaddingFromTheCount() {
        // 2×2 input 1 2 / 3 4, 3×3 window padding 1, stride 1: corner (0,0) averages 1,2,3,4 → 2.5
        let x: [Float] = [1, 2, 3, 4]
        let shape = TensorShape(h: 2, w: 2, c: 1)
        let pool = PoolParameters(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .uniform(1))
        var out = [Float](repeating: .nan, count: 4)
        var mx = out
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                FloatReference.averagePool(input: xp.baseAddress!, inputShape: shape, output: op.baseAddress!,
                                           outputShape: shape, parameters: pool, clamp: .none)
            }
            mx.withUnsafeMutableBufferPointer { op in
                FloatReference.maxPool(input: xp.baseAddress!, inputShape: shape, output: op.baseAddress!,
                                       outputShape: shape, parameters: pool, clamp: FloatClamp(min: 0, max: 3.5))
            }
        }
        XCTAssertEqual(out, [2.5, 2.5, 2.5, 2.5])
        XCTAssertEqual(mx, [3.5, 3.5, 3.5, 3.5])
    }

    func testMaxPoolIgnoresPaddingForNegativeInputs() {
        let x: [Float] = [-5, -2, -3, -4]  // 1×4×1
        let shape = TensorShape(h: 1, w: 4, c: 1)
        let pool = PoolParameters(kernelH: 1, kernelW: 2, strideH: 1, strideW: 2, padding: Padding(left: 1, right: 1))
        let outShape = pool.outputShape(input: shape)
        var out = [Float](repeating: .nan, count: outShape.elementCount)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
            FloatReference.maxPool(input: xp.baseAddress!, inputShape: shape, output: op.baseAddress!,
                                   outputShape: outShape, parameters: pool, clamp: .none)
        } }
        XCTAssertEqual(out, [-5, -2, -4])
    }

    func testGlobalAveragePoolEqualsAveragePoolWithWholeWindow() {
        let shape = TensorShape(n: 2, h: 3, w: 5, c: 4)
        let x = rng.floats(shape.elementCount)
        var g = [Float](repeating: .nan, count: 8), a = g
        x.withUnsafeBufferPointer { xp in
            g.withUnsafeMutableBufferPointer { FloatReference.globalAveragePool(input: xp.baseAddress!, inputShape: shape, output: $0.baseAddress!) }
            a.withUnsafeMutableBufferPointer {
                FloatReference.averagePool(input: xp.baseAddress!, inputShape: shape, output: $0.baseAddress!,
                                           outputShape: TensorShape(n: 2, h: 1, w: 1, c: 4),
                                           parameters: PoolParameters(kernelH: 3, kernelW: 5, strideH: 1, strideW: 1), clamp: .none)
            }
        }
        assertClose(g, a, relative: 1e-6)
    }

    func testBroadcastMulByPerChannelGateEqualsMulByTiledGate() {
        let shape = TensorShape(n: 2, h: 3, w: 2, c: 4)
        let x = rng.floats(shape.elementCount), gate = rng.floats(8)
        var tiled = [Float](repeating: 0, count: shape.elementCount)
        for i in 0..<shape.elementCount { tiled[i] = gate[(i / (3 * 2 * 4)) * 4 + i % 4] }
        var viaBroadcast = [Float](repeating: .nan, count: shape.elementCount), viaTiled = viaBroadcast
        var added = viaBroadcast, addedScalar = viaBroadcast
        x.withUnsafeBufferPointer { xp in
            gate.withUnsafeBufferPointer { gp in
                viaBroadcast.withUnsafeMutableBufferPointer {
                    FloatReference.mul(input1: xp.baseAddress!, shape1: shape, input2: gp.baseAddress!, shape2: TensorShape(n: 2, h: 1, w: 1, c: 4),
                                       output: $0.baseAddress!, outputShape: shape, clamp: .none)
                }
                addedScalar.withUnsafeMutableBufferPointer {
                    FloatReference.add(input1: xp.baseAddress!, shape1: shape, input2: gp.baseAddress!, shape2: TensorShape(n: 1, h: 1, w: 1, c: 1),
                                       output: $0.baseAddress!, outputShape: shape, clamp: .relu)
                }
            }
            tiled.withUnsafeBufferPointer { tp in
                viaTiled.withUnsafeMutableBufferPointer {
                    FloatReference.mul(input1: xp.baseAddress!, shape1: shape, input2: tp.baseAddress!, shape2: shape,
                                       output: $0.baseAddress!, outputShape: shape, clamp: .none)
                }
                added.withUnsafeMutableBufferPointer {
                    FloatReference.add(input1: xp.baseAddress!, shape1: shape, input2: tp.baseAddress!, shape2: shape,
                                       output: $0.baseAddress!, outputShape: shape, clamp: .none)
                }
            }
        }
        XCTAssertEqual(viaBroadcast, viaTiled)
        XCTAssertEqual(added, zip(x, tiled).map { $0 + $1 })
        XCTAssertEqual(addedScalar, x.map { max($0 + gate[0], 0) })
    }

    func testAddInPlaceOverFirstInput() {
        var x: [Float] = [1, 2, 3, 4]
        let y: [Float] = [10, 20, 30, 40]
        let shape = TensorShape(h: 1, w: 2, c: 2)
        x.withUnsafeMutableBufferPointer { xp in y.withUnsafeBufferPointer { yp in
            FloatReference.add(input1: UnsafePointer(xp.baseAddress!), shape1: shape, input2: yp.baseAddress!, shape2: shape,
                               output: xp.baseAddress!, outputShape: shape, clamp: .none)
        } }
        XCTAssertEqual(x, [11, 22, 33, 44])
    }

    func testSoftmaxRowsSumToOneAndLargeInputsStayFinite() {
        let x: [Float] = [1000, 1001, 1002, -1000, 0, 0, 0, 0, 1, 2, 3, 4]
        var out = [Float](repeating: .nan, count: 12)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer {
            FloatReference.softmax(input: xp.baseAddress!, output: $0.baseAddress!, rows: 3, channels: 4)
        } }
        for r in 0..<3 {
            XCTAssertEqual(out[(r * 4)..<(r * 4 + 4)].reduce(0, +), 1, accuracy: 1e-6)
        }
        // Row 0: softmax(0, 1, 2, -2000) = e^k / (1 + e + e^2), last exactly 0.
        let s = 1 + Float(M_E) + Float(M_E * M_E)
        assertClose(Array(out[0..<4]), [1 / s, Float(M_E) / s, Float(M_E * M_E) / s, 0], relative: 1e-6)
        assertClose(Array(out[4..<8]), [0.25, 0.25, 0.25, 0.25], relative: 1e-7)
        XCTAssertTrue(out.allSatisfy { $0.isFinite })
    }

    func testActivationsAtKnownPointsAndInPlace() {
        var x: [Float] = [-4, -3, -1, 0, 1, 3, 7]
        let cases: [(UnaryActivation, [Float])] = [
            (.relu, [0, 0, 0, 0, 1, 3, 7]),
            (.relu6, [0, 0, 0, 0, 1, 3, 6]),
            (.clip(min: -1, max: 2), [-1, -1, -1, 0, 1, 2, 2]),
            (.hardSwish, [0, 0, -1.0 / 3, 0, 2.0 / 3, 3, 7]),
            (.hardSigmoid(alpha: 0.2, beta: 0.5), [0, 0, 0.3, 0.5, 0.7, 1, 1]),
            (.leakyRelu(alpha: 0.1), [-0.4, -0.3, -0.1, 0, 1, 3, 7]),
            (.sigmoid, x.map { 1 / (1 + exp(-$0)) }),
            (.tanh, x.map { tanh($0) }),
            (.swish, x.map { $0 / (1 + exp(-$0)) }),
        ]
        for (kind, expected) in cases {
            var out = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer {
                FloatReference.activation(input: xp.baseAddress!, output: $0.baseAddress!, count: 7, kind: kind)
            } }
            assertClose(out, expected, relative: 1e-6, "\(kind)")
        }
        x.withUnsafeMutableBufferPointer { xp in
            FloatReference.activation(input: UnsafePointer(xp.baseAddress!), output: xp.baseAddress!, count: 7, kind: .relu6)
        }
        XCTAssertEqual(x, [0, 0, 0, 0, 1, 3, 6])
    }
}
