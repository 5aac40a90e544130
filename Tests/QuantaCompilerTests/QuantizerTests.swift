import Foundation
import QuantaKernels
import XCTest
@testable import QuantaCompiler

/// `M * 2^(shift - 31)`, the real value of a quantized multiplier.
private func realValue(_ m: Int32, _ shift: Int32) -> Double { Double(m) * pow(2, Double(shift) - 31) }

private func conv(_ name: String, filter: FilterShape, weights: [Float], bias: [Float], clamp: FloatClamp = .none, groups: Int = 1) -> GraphOp {
    .conv2D(ConvolutionOp(parameters: Conv2DParameters(padding: .uniform(filter.kernelH / 2), groups: groups), filter: filter, weights: weights, bias: bias, clamp: clamp))
}

final class QuantizerTests: XCTestCase {
    // MARK: Weights, bias, multipliers, clamps

    func testWeightsRoundTripWithinHalfAStepPerChannel() {
        var random = TestRandom(seed: 11)
        let channels = 6, perChannel = 27
        var weights: [Float] = []
        for c in 0..<channels {
            let magnitude = Float(pow(10, Double(c) - 3))  // 0.001 ... 100
            weights += (0..<perChannel).map { _ in random.uniform(-magnitude, magnitude) }
        }
        let q = WeightQuantization.quantize(weights, channels: channels, perTensor: false)
        XCTAssertEqual(q.values.count, weights.count)
        for c in 0..<channels {
            let block = c * perChannel..<(c + 1) * perChannel
            let maxAbs = block.map { abs(weights[$0]) }.max()!
            XCTAssertEqual(q.scales[c], maxAbs / 127)
            XCTAssertEqual(block.map { abs(Int(q.values[$0])) }.max(), 127, "the largest weight uses the full range")
            for i in block {
                XCTAssertGreaterThanOrEqual(q.values[i], -127)
                let error = abs(Float(q.values[i]) * q.scales[c] - weights[i])
                XCTAssertLessThanOrEqual(error, q.scales[c] * 0.5 * (1 + 1e-5), "channel \(c) element \(i)")
            }
        }
    }

    func testPerTensorWeightsUseOneScaleForAllChannels() {
        let weights: [Float] = [0.5, -0.25, 2, -1, 0.01, 0.02]
        let q = WeightQuantization.quantize(weights, channels: 3, perTensor: true)
        XCTAssertEqual(q.scales, [Float](repeating: 2 / 127, count: 3))
        XCTAssertEqual(q.values, weights.map { Quantizer.quantize($0, QuantizationParameters(scale: 2 / 127, zeroPoint: 0)) })
        XCTAssertEqual(q.values[2], 127)
    }

    func testAllZeroChannelGetsScaleOneAndZeroWeights() {
        let q = WeightQuantization.quantize([0, 0, 1, -1], channels: 2, perTensor: false)
        XCTAssertEqual(q.scales, [1, 1 / 127])
        XCTAssertEqual(q.values, [0, 0, 127, -127])
    }

    func testBiasIsRoundedHalfAwayFromZeroAtInputScaleTimesWeightScale() throws {
        // Scale 0.5 * 0.25 = 0.125: 0.3125 is 2.5 steps, 1 is 8 steps; weight scale 2^-10: 0.001 / 2^-11 = 2.048.
        let bias = try WeightQuantization.quantizeBias(
            [0.3125, -0.3125, 1, 0.001], inputScale: 0.5, weightScales: [0.25, 0.25, 0.25, 0x1p-10], node: "c")
        XCTAssertEqual(bias, [3, -3, 8, 2])
    }

    func testBiasBeyondInt32IsAnErrorNamingNodeAndChannel() {
        XCTAssertThrowsError(try WeightQuantization.quantizeBias([1, 1000], inputScale: 1e-4, weightScales: [1e-4, 1e-4], node: "conv7")) { error in
            guard case .biasOverflow(let node, let channel, let value)? = error as? QuantizationError else { return XCTFail("\(error)") }
            XCTAssertEqual(node, "conv7")
            XCTAssertEqual(channel, 1)
            XCTAssertGreaterThan(value, Double(Int32.max))
        }
    }

    func testBiasBeyondInt32WidensThatChannelsWeightScaleAndRequantizesItsWeights() throws {
        // Channel 1: nearly dead weights (3e-7) with bias 0.5 at input scale 1e-3: at the natural
        // scale 3e-7/127 the bias is 2.1e11 int32 units. Channel 0 is ordinary and must not change.
        let weights: [Float] = [0.5, -0.25, 0.1, 0.05, 3e-7, -1e-7, 2e-7, 0]
        let bias: [Float] = [0.01, 0.5]
        let terms = 4
        let (w, q) = try WeightQuantization.quantize(
            weights: weights, bias: bias, channels: 2, perTensor: false, inputScale: 1e-3, accumulatorTerms: terms, node: "p2o.Conv.28")
        let plain = WeightQuantization.quantize(weights, channels: 2, perTensor: false)
        XCTAssertEqual(w.scales[0], plain.scales[0])
        XCTAssertEqual(Array(w.values[0..<4]), Array(plain.values[0..<4]))
        let limit = WeightQuantization.biasLimit(accumulatorTerms: terms)
        XCTAssertGreaterThan(w.scales[1], plain.scales[1])
        XCTAssertLessThanOrEqual(Double(abs(q[1])), limit)
        XCTAssertGreaterThan(Double(abs(q[1])), limit * (1 - 0x1p-22))  // the smallest widening that fits, to Float precision
        XCTAssertEqual(Double(q[1]) * 1e-3 * Double(w.scales[1]), 0.5, accuracy: 0.5 * 1e-3 * Double(w.scales[1]) + 1e-7)
        for i in 4..<8 {  // re-quantized at the wide scale: within half a step
            XCTAssertLessThanOrEqual(abs(Float(w.values[i]) * w.scales[1] - weights[i]), w.scales[1] / 2)
        }
        XCTAssertEqual(q[0], try WeightQuantization.quantizeBias([0.01], inputScale: 1e-3, weightScales: [plain.scales[0]], node: "c")[0])
    }

    func testBiasWideningPerTensorWidensTheOneScaleForEveryChannel() throws {
        let weights: [Float] = [1e-7, -1e-7, 2e-7, 1e-7]
        let (w, q) = try WeightQuantization.quantize(
            weights: weights, bias: [0, 1], channels: 2, perTensor: true, inputScale: 1e-2, accumulatorTerms: 2, node: "fc")
        XCTAssertEqual(w.scales[0], w.scales[1])
        XCTAssertEqual(q[0], 0)
        XCTAssertLessThanOrEqual(Double(q[1]), WeightQuantization.biasLimit(accumulatorTerms: 2))
    }

    func testBiasThatNoWeightScaleCanHoldIsStillAnError() {
        // 2^17 products use 131072·255·128 > Int32.max of the accumulator: no room for any bias.
        XCTAssertThrowsError(try WeightQuantization.quantize(
            weights: [1, 1], bias: [1, 0], channels: 2, perTensor: false, inputScale: 1, accumulatorTerms: 1 << 17, node: "huge")
        ) { error in
            guard case .biasOverflow(let node, let channel, _)? = error as? QuantizationError else { return XCTFail("\(error)") }
            XCTAssertEqual(node, "huge")
            XCTAssertEqual(channel, 0)
        }
        // An infinite bias.
        XCTAssertThrowsError(try WeightQuantization.quantize(
            weights: [1, 1], bias: [0, .infinity], channels: 2, perTensor: false, inputScale: 1, accumulatorTerms: 1, node: "inf")
        ) { error in
            guard case .biasOverflow(_, let channel, _)? = error as? QuantizationError else { return XCTFail("\(error)") }
            XCTAssertEqual(channel, 1)
        }
    }

    func testMultipliersReproduceTheRealMultiplierTo2PowMinus31() throws {
        var random = TestRandom(seed: 12)
        let inScale: Float = 0.0237
        let weightScales = (0..<64).map { _ in Float(pow(10, random.unit() * 4 - 5)) }  // 1e-5 ... 0.1
        let output = QuantizationParameters(scale: 0.0421, zeroPoint: -5)
        let r = try WeightQuantization.requantization(inputScale: inScale, weightScales: weightScales, output: output, clamp: .none, node: "c")
        XCTAssertEqual(r.multipliers.count, 64)
        for c in 0..<64 {
            let real = Double(inScale) * Double(weightScales[c]) / Double(output.scale)
            XCTAssertGreaterThanOrEqual(r.multipliers[c], 1 << 30)
            XCTAssertEqual(realValue(r.multipliers[c], r.shifts[c]), real, accuracy: real * 0x1p-31, "channel \(c)")
        }
        XCTAssertEqual(r.clampMin, -128)
        XCTAssertEqual(r.clampMax, 127)
    }

    func testReluClampStartsAtZeroPointAndRelu6EndsAtQuantizedSix() {
        let q = QuantizationParameters(scale: 0.05, zeroPoint: -100)
        let relu = WeightQuantization.clampRange(.relu, q)
        XCTAssertEqual(relu.min, -100)
        XCTAssertEqual(relu.max, 127)
        let relu6 = WeightQuantization.clampRange(.relu6, q)
        XCTAssertEqual(relu6.min, -100)
        XCTAssertEqual(relu6.max, 20, "6 / 0.05 - 100")
        let wide = WeightQuantization.clampRange(.relu6, QuantizationParameters(scale: 0.01, zeroPoint: -128))
        XCTAssertEqual(wide.max, 127, "6 beyond the representable range saturates")
    }

    func testHardSwishLookupTableIsWithinOneOutputStepOfFloat() {
        let input = Quantizer.chooseParameters(min: -6, max: 6)
        let output = Quantizer.chooseParameters(min: -0.375, max: 6)
        let table = ElementwiseQuantization.lookupTable(.hardSwish, input: input, output: output)
        XCTAssertEqual(table.count, 256)
        for q in -128...127 {
            let x = Quantizer.dequantize(Int8(q), input)
            let expected = UnaryActivation.hardSwish.apply(x)
            let got = Quantizer.dequantize(table[q + 128], output)
            XCTAssertEqual(got, expected, accuracy: output.scale, "input \(q) (x = \(x))")
        }
        XCTAssertEqual(table[Int(input.zeroPoint) + 128], Int8(output.zeroPoint), "hard-swish(0) = 0 exactly")
    }

    func testAddConstantsEqualHandComputedTFLiteValues() throws {
        // TFLite: twiceMax = 2 * max(0.07, 0.11) = 0.22 (Float scales in Double);
        // 0.07/0.22 → (1366580516, -1); 0.11/0.22 → (2^30, 0); 0.22/(2^20 * 0.13) → (1817101605, -19).
        let a = QuantizationParameters(scale: 0.07, zeroPoint: 3)
        let b = QuantizationParameters(scale: 0.11, zeroPoint: -7)
        let out = QuantizationParameters(scale: 0.13, zeroPoint: -20)
        let add = try ElementwiseQuantization.add(a, b, output: out, clamp: .relu, node: "add")
        XCTAssertEqual(add, AddQuantization(
            input1ZeroPoint: 3, input2ZeroPoint: -7, outputZeroPoint: -20, leftShift: 20,
            input1Multiplier: 1_366_580_516, input1Shift: -1, input2Multiplier: 1 << 30, input2Shift: 0,
            outputMultiplier: 1_817_101_605, outputShift: -19, clampMin: -20, clampMax: 127))
    }

    func testMulMultiplierIsTheProductOfInputScalesOverOutputScale() throws {
        let a = QuantizationParameters(scale: 0.07, zeroPoint: 3)
        let b = QuantizationParameters(scale: 0.11, zeroPoint: -7)
        let out = QuantizationParameters(scale: 0.13, zeroPoint: -20)
        let mul = try ElementwiseQuantization.mul(a, b, output: out, clamp: .none, node: "mul")
        XCTAssertEqual(mul.multiplier, 2_035_153_806)
        XCTAssertEqual(mul.shift, -4)
        XCTAssertEqual(mul.input1ZeroPoint, 3)
        XCTAssertEqual(mul.input2ZeroPoint, -7)
        XCTAssertEqual(mul.outputZeroPoint, -20)
    }

    func testGlobalAveragePoolMultiplierIsInputOverOutputScale() throws {
        let (m, s) = try ElementwiseQuantization.globalAveragePool(
            input: QuantizationParameters(scale: 0.3, zeroPoint: 0), output: QuantizationParameters(scale: 0.1, zeroPoint: 0), node: "gap")
        XCTAssertEqual(realValue(m, s), Double(Float(0.3)) / Double(Float(0.1)), accuracy: 3 * 0x1p-31)
    }

    func testSoftmaxTableIsExpInQ16() {
        let table = ElementwiseQuantization.softmaxTable(inputScale: 0.125)
        XCTAssertEqual(table.count, 256)
        XCTAssertEqual(table[0], 65536)
        XCTAssertEqual(table[8], Int32((exp(-1.0) * 65536).rounded()))
        XCTAssertEqual(table[255], Int32((exp(-255 * 0.125) * 65536).rounded()))
        XCTAssertEqual(table, table.sorted(by: >), "non-increasing")
    }

    // MARK: Graph-level activation quantization

    /// in(1×2×2×2) → maxPool 1×1 → pad(value 9) → reshape ; in2 ; concat(reshaped pool, in2) → softmax
    private func sharingGraph() -> Graph {
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: TensorShape(h: 2, w: 2, c: 2)))
        let y = g.addTensor(GraphTensor(name: "y", shape: TensorShape(h: 4, w: 4, c: 2)))
        let pooled = g.addTensor(GraphTensor(name: "pooled", shape: TensorShape(h: 2, w: 2, c: 2)))
        let padded = g.addTensor(GraphTensor(name: "padded", shape: TensorShape(h: 4, w: 4, c: 2)))
        let joined = g.addTensor(GraphTensor(name: "joined", shape: TensorShape(h: 4, w: 4, c: 4)))
        let probs = g.addTensor(GraphTensor(name: "probs", shape: TensorShape(h: 4, w: 4, c: 4)))
        g.addNode(GraphNode(name: "pool", op: .maxPool(PoolParameters(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1), .none), inputs: [x], outputs: [pooled]))
        g.addNode(GraphNode(name: "pad", op: .pad(.uniform(1), value: 9), inputs: [pooled], outputs: [padded]))
        g.addNode(GraphNode(name: "concat", op: .concat, inputs: [padded, y], outputs: [joined]))
        g.addNode(GraphNode(name: "softmax", op: .softmax, inputs: [joined], outputs: [probs]))
        g.inputs = [x, y]
        g.outputs = [probs]
        return g
    }

    func testPoolPadAndConcatShareOneRangeIncludingThePadValue() throws {
        let g = sharingGraph()
        let ranges: [ClosedRange<Float>?] = [-1...2, -3...1, -1...2, -1...9, -3...9, 0...1]
        let model = try ModelQuantizer.quantize(graph: g, ranges: ranges)
        let shared = Quantizer.chooseParameters(min: -3, max: 9)
        for i in 0..<5 { XCTAssertEqual(model.tensors[i].quantization, shared, model.tensors[i].name) }
        XCTAssertEqual(model.tensors[5].quantization, QuantizationParameters(scale: 1.0 / 256, zeroPoint: -128))
        guard case .pad(_, let value) = model.ops[1].kind else { return XCTFail("pad") }
        XCTAssertEqual(value, Quantizer.quantize(9, shared))
        guard case .softmax(let table) = model.ops[3].kind else { return XCTFail("softmax") }
        XCTAssertEqual(table, ElementwiseQuantization.softmaxTable(inputScale: shared.scale))
    }

    func testPadValueWidensTheSharedRange() throws {
        let g = sharingGraph()
        let ranges: [ClosedRange<Float>?] = [-1...2, -1...1, -1...2, -1...2, -1...2, 0...1]
        let model = try ModelQuantizer.quantize(graph: g, ranges: ranges)
        XCTAssertEqual(model.tensors[0].quantization, Quantizer.chooseParameters(min: -1, max: 9))
    }

    func testMissingRangeOfAReadTensorIsAnError() {
        let g = addGraph()
        XCTAssertThrowsError(try ModelQuantizer.quantize(graph: g, ranges: [nil, nil, 0...3])) { error in
            XCTAssertEqual(error as? QuantizationError, .missingRange(tensor: "x"))
        }
        XCTAssertThrowsError(try ModelQuantizer.quantize(graph: g, ranges: [])) { error in
            XCTAssertEqual(error as? QuantizationError, .rangeCount(expected: 3, actual: 0))
        }
    }

    /// x(1×2×2×3) + k(constant 1×1×1×3) → ReLU6 → y
    private func addGraph() -> Graph {
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: TensorShape(h: 2, w: 2, c: 3)))
        let k = g.addTensor(GraphTensor(name: "k", shape: TensorShape(h: 1, w: 1, c: 3), data: [-0.5, 0.25, 2]))
        let y = g.addTensor(GraphTensor(name: "y", shape: TensorShape(h: 2, w: 2, c: 3)))
        g.addNode(GraphNode(name: "add", op: .add(.relu6), inputs: [x, k], outputs: [y]))
        g.inputs = [x]
        g.outputs = [y]
        return g
    }

    func testConstantOperandIsQuantizedPerTensorFromItsData() throws {
        let g = addGraph()
        let model = try ModelQuantizer.quantize(graph: g, ranges: [-1...1, nil, 0...3])
        let kq = Quantizer.chooseParameters(min: -0.5, max: 2)
        XCTAssertEqual(model.tensors[1].quantization, kq)
        XCTAssertEqual(model.tensors[1].data, [-0.5, 0.25, 2].map { Quantizer.quantize($0, kq) })
        let yq = Quantizer.chooseParameters(min: 0, max: 3)
        guard case .add(let add) = model.ops[0].kind else { return XCTFail("add") }
        XCTAssertEqual(add, try ElementwiseQuantization.add(
            Quantizer.chooseParameters(min: -1, max: 1), kq, output: yq, clamp: .relu6, node: "add",
            shortMultipliers: QuantizationOptions().shortMultipliers))
        XCTAssertEqual(add.clampMin, yq.zeroPoint)
        XCTAssertEqual(add.clampMax, Int32(Quantizer.quantize(6, yq)))
    }

    func testNonFiniteActivationIsAnErrorNamingTheTensor() throws {
        var calibrator = try Calibrator(graph: addGraph())
        try calibrator.observe(sample: [[1, 2, .infinity, 0, 0, 0, 0, 0, 0, 0, 0, .nan]])
        XCTAssertThrowsError(try calibrator.ranges(.minmax)) { error in
            XCTAssertEqual(error as? QuantizationError, .nonFiniteActivation(tensor: "x", count: 2))
        }
    }

    /// Saturation made visible: MinMax clips nothing; a 99 % percentile clips about 1 % of
    /// the input; one calibration sample 10^30 times the others is named with the tensor
    /// whose range it sets (x; the add's output is capped by its relu6).
    func testCalibrationReportsClippingAndTheOutlierSample() throws {
        var rng = ImportTestRandom(seed: 9)
        var calibrator = try Calibrator(graph: addGraph())
        for _ in 0..<40 { try calibrator.observe(sample: [rng.floats(12)]) }
        let minmax = calibrator.report(ranges: try calibrator.ranges(.minmax))
        XCTAssertEqual(minmax.clipping, [])
        XCTAssertEqual(minmax.outliers, [])
        let percentile = calibrator.report(ranges: try calibrator.ranges(.percentile(99)))
        let x = try XCTUnwrap(percentile.clipping.first { $0.tensor == "x" })
        XCTAssertEqual(x.share, 0.01, accuracy: 0.006)
        try calibrator.observe(sample: [[1e30] + rng.floats(11)], index: 40)
        let report = calibrator.report(ranges: try calibrator.ranges(.minmax))
        XCTAssertEqual(report.outliers.count, 1)
        XCTAssertEqual(report.outliers.first?.sample, 40)
        XCTAssertEqual(report.outliers.first?.tensor, "x")
        XCTAssertEqual(report.outliers.first?.magnitude, 1e30)
        XCTAssertLessThanOrEqual(report.outliers.first?.others ?? 2, 1)
        XCTAssertTrue(report.lines().contains { $0.hasPrefix("warning    calibration sample 40 sets the range of 1 tensor(s) far beyond the other samples ('x': max |value| 1e+30") }, "\(report.lines())")
    }

    func testInvalidPercentileIsRejected() {
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: TensorShape(h: 1, w: 1, c: 1)))
        g.inputs = [x]
        g.outputs = [x]
        XCTAssertThrowsError(try ModelQuantizer.quantize(graph: g, calibration: [[[1]]], options: QuantizationOptions(method: .percentile(0)))) { error in
            XCTAssertEqual(error as? QuantizationError, .invalidPercentile(0))
        }
        XCTAssertThrowsError(try ModelQuantizer.quantize(graph: g, calibration: [])) { error in
            XCTAssertEqual(error as? QuantizationError, .noCalibrationSamples)
        }
    }

    // MARK: End to end: calibrate, quantize, run the int8 reference

    /// x(1×6×6×4) → depthwise 3×3 + ReLU6 → pointwise 1×1 (8 outputs) → hard-swish
    private func convGraph(seed: UInt64) -> Graph {
        var random = TestRandom(seed: seed)
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: TensorShape(h: 6, w: 6, c: 4), sourceLayout: .nchw))
        let d = g.addTensor(GraphTensor(name: "dw", shape: TensorShape(h: 6, w: 6, c: 4)))
        let p = g.addTensor(GraphTensor(name: "pw", shape: TensorShape(h: 6, w: 6, c: 8)))
        let h = g.addTensor(GraphTensor(name: "hs", shape: TensorShape(h: 6, w: 6, c: 8)))
        let dwFilter = FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
        let pwFilter = FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 4)
        g.addNode(GraphNode(
            name: "dw", op: conv("dw", filter: dwFilter, weights: (0..<36).map { _ in random.uniform(-0.6, 0.6) },
                                 bias: (0..<4).map { _ in random.uniform(-0.2, 0.2) }, clamp: .relu6, groups: 4),
            inputs: [x], outputs: [d]))
        g.addNode(GraphNode(
            name: "pw", op: conv("pw", filter: pwFilter, weights: (0..<32).map { _ in random.uniform(-1, 1) },
                                 bias: (0..<8).map { _ in random.uniform(-0.5, 0.5) }),
            inputs: [d], outputs: [p]))
        g.addNode(GraphNode(name: "hs", op: .activation(.hardSwish), inputs: [p], outputs: [h]))
        g.inputs = [x]
        g.outputs = [h]
        return g
    }

    private func samples(_ count: Int, seed: UInt64) -> [[[Float]]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in [(0..<144).map { _ in random.uniform(-2, 2) }] }
    }

    func testQuantizedConvolutionsMatchTheFloatGraphWithinTwoSteps() throws {
        let g = convGraph(seed: 21)
        let calibration = samples(8, seed: 22)
        var reported: [(Int, Int)] = []
        let model = try ModelQuantizer.quantize(graph: g, calibration: calibration, progress: { reported.append(($0, $1)) })
        XCTAssertEqual(reported.map { $0.0 }, Array(0...8))
        XCTAssertTrue(reported.allSatisfy { $0.1 == 8 })
        XCTAssertEqual(model.inputs, g.inputs)
        XCTAssertEqual(model.outputs, g.outputs)
        XCTAssertEqual(model.tensors[0].sourceLayout, .nchw)

        let input = samples(1, seed: 99)[0][0]
        let reference = try FloatExecutor(graph: g).run(inputs: [input])
        var q = model.tensors.map { [Int8](repeating: 0, count: $0.shape.elementCount) }
        q[0] = input.map { Quantizer.quantize($0, model.tensors[0].quantization) }
        for op in model.ops {
            let i = op.inputs[0], o = op.outputs[0]
            let inT = model.tensors[i], outT = model.tensors[o]
            switch op.kind {
            case .conv2D(let parameters, let filter, let weights, let bias, let r):
                XCTAssertEqual(r.multipliers.count, filter.outputChannels)
                r.multipliers.withUnsafeBufferPointer { m in
                    r.shifts.withUnsafeBufferPointer { s in
                        let requantization = Requantization(
                            multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: filter.outputChannels,
                            outputZeroPoint: outT.quantization.zeroPoint, clampMin: r.clampMin, clampMax: r.clampMax)
                        Int8Reference.conv2D(
                            input: q[i], inputShape: inT.shape, inputZeroPoint: inT.quantization.zeroPoint,
                            weights: weights, filter: filter, bias: bias, output: &q[o], outputShape: outT.shape,
                            parameters: parameters, requantization: requantization)
                    }
                }
            case .lookupTable(let table):
                Int8Reference.lookupTable(input: q[i], output: &q[o], count: q[i].count, table: table)
            default:
                XCTFail("unexpected op \(op.kind)")
            }
        }
        for t in 1..<model.tensors.count {
            let p = model.tensors[t].quantization
            let float = reference[t]!
            var worst: Float = 0
            for (a, b) in zip(q[t], float) { worst = max(worst, abs(Quantizer.dequantize(a, p) - b)) }
            XCTAssertLessThanOrEqual(worst, 2 * p.scale, "tensor \(model.tensors[t].name): worst error \(worst), scale \(p.scale)")
        }
    }

    func testSameGraphAndSamplesGiveTheSameModel() throws {
        for method in [CalibrationMethod.minmax, .percentile(99.9), .entropy, .mse] {
            let options = QuantizationOptions(method: method)
            let a = try ModelQuantizer.quantize(graph: convGraph(seed: 31), calibration: samples(4, seed: 32), options: options)
            let b = try ModelQuantizer.quantize(graph: convGraph(seed: 31), calibration: samples(4, seed: 32), options: options)
            XCTAssertEqual(a.tensors.map(\.quantization), b.tensors.map(\.quantization), "\(method)")
            XCTAssertEqual(String(describing: a.ops.map(\.kind)), String(describing: b.ops.map(\.kind)), "\(method)")
        }
    }

    func testCalibratorCollectsEveryActivationButNotConstants() throws {
        var g = convGraph(seed: 41)
        let k = g.addTensor(GraphTensor(name: "k", shape: TensorShape(h: 1, w: 1, c: 8), data: [Float](repeating: 1, count: 8)))
        let out = g.addTensor(GraphTensor(name: "out", shape: TensorShape(h: 6, w: 6, c: 8)))
        g.addNode(GraphNode(name: "mul", op: .mul(.none), inputs: [3, k], outputs: [out]))
        g.outputs = [out]
        var calibrator = try Calibrator(graph: g)
        for (i, s) in samples(3, seed: 42).enumerated() { try calibrator.observe(sample: s, index: i) }
        XCTAssertEqual(calibrator.sampleCount, 3)
        XCTAssertEqual(calibrator.statistics.map { $0 == nil }, [false, false, false, false, true, false])
        XCTAssertEqual(calibrator.statistics[0]!.count, 3 * 144)
        let ranges = try calibrator.ranges(.minmax)
        XCTAssertGreaterThanOrEqual(ranges[1]!.lowerBound, 0, "ReLU6 output")
        XCTAssertLessThanOrEqual(ranges[1]!.upperBound, 6)
        XCTAssertThrowsError(try calibrator.observe(sample: [[1, 2]], index: 7)) { error in
            XCTAssertEqual(error as? QuantizationError, .sampleSize(sample: 7, input: "x", expected: 144, actual: 2))
        }
    }
}
