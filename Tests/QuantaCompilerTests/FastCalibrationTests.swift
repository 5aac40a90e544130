import XCTest
import CQuantaHost
import QuantaKernels
@testable import QuantaCompiler

/// The fast calibration path. `FastFloatConv` gives `FloatReference.conv2D`'s bits (not only close values): random
/// standard, grouped and depthwise layers of every geometry the importer produces (kernels 1...5,
/// strides 1...2, dilation, asymmetric padding, channel counts around the 8- and 16-wide
/// blocks, the 6-pixel tiles (1×1, and interior K×K pixels) and their remainders, clamps), and whole models through
/// `FloatExecutor` with and without the fast kernels.
final class FastCalibrationTests: XCTestCase {
    func reference(_ conv: ConvolutionOp, _ input: [Float], _ inShape: TensorShape) -> [Float] {
        let outShape = conv.parameters.outputShape(input: inShape, filter: conv.filter)
        var out = [Float](repeating: .nan, count: outShape.elementCount)
        input.withUnsafeBufferPointer { i in
            conv.weights.withUnsafeBufferPointer { w in
                conv.bias.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        FloatReference.conv2D(input: i.baseAddress!, inputShape: inShape, weights: w.baseAddress!, filter: conv.filter,
                                              bias: b.baseAddress, output: o.baseAddress!, outputShape: outShape,
                                              parameters: conv.parameters, clamp: conv.clamp)
                    }
                }
            }
        }
        return out
    }

    func fast(_ conv: ConvolutionOp, _ input: [Float], _ inShape: TensorShape) throws -> [Float] {
        let outShape = conv.parameters.outputShape(input: inShape, filter: conv.filter)
        let kernel = try XCTUnwrap(FastFloatConv(conv, inputChannels: inShape.c))
        var out = [Float](repeating: .nan, count: outShape.elementCount + 8)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                kernel.run(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape)
            }
        }
        XCTAssertTrue(out[outShape.elementCount...].allSatisfy { $0.isNaN }, "wrote past the output")
        return Array(out[..<outShape.elementCount])
    }

    func testFastConvolutionsGiveTheReferenceBits() throws {
        var rng = ImportTestRandom(seed: 77)
        for trial in 0..<80 {
            let depthwise = trial % 3 == 2
            // Every sixth trial grouped: 2 or 3 groups of 2...5 input and 1...9 output channels.
            let groups = trial % 6 == 1 ? 2 + (trial / 6) % 2 : 1
            let c = groups > 1 ? groups * (2 + trial % 4) : [1, 3, 7, 8, 9, 16, 17, 24, 33][trial % 9]
            let o = depthwise ? c : groups > 1 ? groups * (1 + trial % 9) : [1, 5, 8, 15, 16, 17, 31, 40][trial % 8]
            let k = trial % 4 == 0 ? 1 : [1, 2, 3, 5][trial % 4]
            let stride = trial % 5 == 0 ? 2 : 1
            let dilation = trial % 7 == 0 ? 2 : 1
            let pad = k == 1 ? Padding.zero : Padding(top: trial % 2, left: (trial / 2) % 3 % k, bottom: (trial / 3) % 2, right: trial % k)
            // Every fifth trial a wide row: several 6-pixel interior tiles and a remainder.
            let inShape = TensorShape(n: 1 + trial % 2, h: 4 + trial % 5, w: trial % 5 == 3 ? 23 + trial % 7 : 5 + trial % 6, c: c)
            let filter = FilterShape(outputChannels: o, kernelH: k, kernelW: k, inputChannelsPerGroup: depthwise ? 1 : c / groups)
            let parameters = Conv2DParameters(strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation,
                                              padding: pad, groups: depthwise ? c : groups)
            let out = parameters.outputShape(input: inShape, filter: filter)
            guard out.h >= 1, out.w >= 1 else { continue }
            let clamp: FloatClamp = [.none, .relu, .relu6][trial % 3]
            // Every fourth trial: channel 0's weights and bias -0.0 (outputs of ±0 at the
            // clamp's bound) and a NaN input value, whose lanes the clamp must pass as the
            // reference's min/max do.
            var weights = rng.floats(filter.elementCount), bias = rng.floats(o)
            var input = rng.floats(inShape.elementCount, scale: 3)
            if trial % 4 == 1 {
                for ky in 0..<k { for kx in 0..<k { for i in 0..<filter.inputChannelsPerGroup { weights[filter.index(0, ky, kx, i)] = -0.0 } } }
                bias[0] = -0.0
                input[input.count / 2] = .nan
            }
            let conv = ConvolutionOp(parameters: parameters, filter: filter, weights: weights, bias: bias, clamp: clamp)
            let expected = reference(conv, input, inShape), got = try fast(conv, input, inShape)
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "trial \(trial): \(inShape) \(filter) \(parameters)")
        }
    }

    /// The C kernels' blocking: a 1×1 layer deep enough that its pixels run in several
    /// cache chunks (with a remainder of fewer than 6), and 3×3 depthwise rows whose interior
    /// runs with the weights held across the row, with a channel tail past the last 8.
    func testFastKernelsAcrossChunksAndChannelTails() throws {
        var rng = ImportTestRandom(seed: 91)
        let cases: [(TensorShape, FilterShape, Conv2DParameters)] = [
            (TensorShape(n: 1, h: 7, w: 29, c: 600), FilterShape(outputChannels: 40, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 600),
             Conv2DParameters()),
            (TensorShape(n: 2, h: 3, w: 11, c: 1000), FilterShape(outputChannels: 17, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1000),
             Conv2DParameters()),
            (TensorShape(n: 1, h: 9, w: 30, c: 37), FilterShape(outputChannels: 37, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
             Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 1, bottom: 1, right: 1), groups: 37)),
            (TensorShape(n: 1, h: 8, w: 21, c: 48), FilterShape(outputChannels: 48, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
             Conv2DParameters(dilationH: 2, dilationW: 2, padding: Padding(top: 2, left: 2, bottom: 2, right: 2), groups: 48)),
        ]
        for (k, (inShape, filter, parameters)) in cases.enumerated() {
            let clamp: FloatClamp = k % 2 == 0 ? .relu6 : .none
            let conv = ConvolutionOp(parameters: parameters, filter: filter, weights: rng.floats(filter.elementCount),
                                     bias: rng.floats(filter.outputChannels), clamp: clamp)
            let input = rng.floats(inShape.elementCount, scale: 3)
            let expected = reference(conv, input, inShape), got = try fast(conv, input, inShape)
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "case \(k): \(inShape) \(filter) \(parameters)")
        }
    }

    func testMultiplierLayersStayOnTheReferenceAndGroupedOnesDoNot() {
        let grouped = ConvolutionOp(parameters: Conv2DParameters(groups: 2), filter: FilterShape(outputChannels: 4, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 2),
                                    weights: [Float](repeating: 1, count: 8), bias: [0, 0, 0, 0])
        XCTAssertNotNil(FastFloatConv(grouped, inputChannels: 4))
        let multiplier = ConvolutionOp(parameters: Conv2DParameters(groups: 4), filter: FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                       weights: [Float](repeating: 1, count: 72), bias: [Float](repeating: 0, count: 8))
        XCTAssertNil(FastFloatConv(multiplier, inputChannels: 4))
    }

    /// The shipped model and the MobileNetV2 test export: every tensor the same bits with
    /// and without the fast kernels (their fully connected classifiers included, which run
    /// as 1×1 `FastFloatConv`s).
    func testWholeModelsGiveTheSameBitsWithTheFastKernels() throws {
        for (onnx, calibration) in [("/Models/digits_mobilenet.onnx", "/Models/digits_calibration.npy"),
                                    ("/Tests/AccuracyModels/mobilenet_v2_0.35_32.onnx", "/Tests/AccuracyModels/mobilenet_v2_0.35_32_calibration.npy")] {
            let graph = try QuantizePipeline.importGraph(onnxPath: repositoryRoot + onnx)
            let samples = try QuantizePipeline.loadSamples(path: repositoryRoot + calibration, for: graph, limit: 3)
            for sample in samples.samples {
                let fast = try FloatExecutor(graph: graph).run(inputs: [sample])
                let slow = try FloatExecutor(graph: graph, fastKernels: false).run(inputs: [sample])
                XCTAssertEqual(fast.count, slow.count)
                for (a, b) in zip(fast, slow) { XCTAssertEqual(a?.map(\.bitPattern), b?.map(\.bitPattern), onnx) }
            }
        }
    }

    /// Calibration with several samples' float passes on their own threads gives the same
    /// statistics, ranges (every method), report and written model as one at a time.
    func testParallelCalibrationIsTheSameAsSerial() throws {
        let graph = try QuantizePipeline.importGraph(onnxPath: repositoryRoot + "/Models/digits_mobilenet.onnx")
        let samples = try QuantizePipeline.loadSamples(path: repositoryRoot + "/Models/digits_calibration.npy", for: graph, limit: 7)
            .samples.map { [$0] }
        var serial = try Calibrator(graph: graph)
        for (k, sample) in samples.enumerated() { try serial.observe(sample: sample, index: k) }
        for workers in [1, 2, 3, 8] {
            var parallel = try Calibrator(graph: graph)
            var seen: [Int] = []
            try parallel.observe(samples: samples, workers: workers) { seen.append($0) }
            XCTAssertEqual(seen, Array(1...7), "progress in order")
            XCTAssertEqual(parallel.sampleCount, 7)
            for method in [CalibrationMethod.minmax, .percentile(99.9), .entropy, .mse] {
                let a = try serial.ranges(method), b = try parallel.ranges(method)
                XCTAssertEqual(a.map { $0.map { [$0.lowerBound.bitPattern, $0.upperBound.bitPattern] } },
                               b.map { $0.map { [$0.lowerBound.bitPattern, $0.upperBound.bitPattern] } }, "\(workers) workers, \(method)")
            }
            XCTAssertEqual(parallel.report(ranges: try parallel.ranges(.minmax)), serial.report(ranges: try serial.ranges(.minmax)))
        }
        var one = QuantizationOptions(), many = QuantizationOptions()
        one.calibrationWorkers = 1
        many.calibrationWorkers = 4
        let a = try ModelWriter().write(try ModelQuantizer.quantize(graph: graph, calibration: samples, options: one))
        let b = try ModelWriter().write(try ModelQuantizer.quantize(graph: graph, calibration: samples, options: many))
        XCTAssertEqual(a, b)
    }

    /// A bad sample is named by its index whichever thread ran it.
    func testParallelCalibrationNamesTheBadSample() throws {
        let graph = try QuantizePipeline.importGraph(onnxPath: repositoryRoot + "/Models/digits_mobilenet.onnx")
        let good = try QuantizePipeline.loadSamples(path: repositoryRoot + "/Models/digits_calibration.npy", for: graph, limit: 4).samples
        var samples = good.map { [$0] }
        samples[2] = [Array(good[2].dropLast())]
        var calibrator = try Calibrator(graph: graph)
        XCTAssertThrowsError(try calibrator.observe(samples: samples, workers: 4)) { error in
            guard case .sampleSize(let sample, _, _, _)? = error as? QuantizationError else { return XCTFail("\(error)") }
            XCTAssertEqual(sample, 2)
        }
    }

    /// The float outputs calibration keeps for the int8 check are the executor's, sample by
    /// sample; over the limit none are kept.
    func testKeptOutputsAreTheFloatGraphsOutputs() throws {
        let graph = try QuantizePipeline.importGraph(onnxPath: repositoryRoot + "/Models/digits_mobilenet.onnx")
        let samples = try QuantizePipeline.loadSamples(path: repositoryRoot + "/Models/digits_calibration.npy", for: graph, limit: 5)
            .samples.map { [$0] }
        var calibrator = try Calibrator(graph: graph)
        calibrator.keepOutput(graph.outputs[0], samples: samples.count)
        try calibrator.observe(samples: samples, workers: 2)
        let kept = try XCTUnwrap(calibrator.keptOutputs)
        XCTAssertEqual(kept.count, 5)
        for (k, sample) in samples.enumerated() {
            XCTAssertEqual(kept[k].map(\.bitPattern), try FloatExecutor(graph: graph).run(inputs: sample)[graph.outputs[0]]?.map(\.bitPattern))
        }
        var small = try Calibrator(graph: graph)
        small.keepOutput(graph.outputs[0], samples: samples.count, limit: 10 * samples.count - 1)
        try small.observe(samples: samples)
        XCTAssertNil(small.keptOutputs, "10 outputs × 5 samples is above a limit of 49 floats")
    }

    /// Calibration read in chunks (`quantizeReporting(graph:sampleCount:samples:chunk:)`, what
    /// `quanta quantize` does with a `SampleStream`) writes the same model for any chunk size.
    func testChunkedCalibrationIsTheSameForAnyChunkSize() throws {
        let graph = try QuantizePipeline.importGraph(onnxPath: repositoryRoot + "/Models/digits_mobilenet.onnx")
        let stream = try QuantizePipeline.openSamples(path: repositoryRoot + "/Models/digits_calibration.npy", for: graph, limit: 11)
        var written: [[UInt8]] = []
        for chunk in [1, 3, 64] {
            let r = try ModelQuantizer.quantizeReporting(
                graph: graph, sampleCount: stream.count, samples: { try stream.samples($0).map { [$0] } }, chunk: chunk,
                keepOutput: graph.outputs[0])
            XCTAssertEqual(r.floatOutputs?.count, 11)
            written.append(try ModelWriter().write(r.model))
        }
        XCTAssertEqual(written[0], written[1])
        XCTAssertEqual(written[0], written[2])
    }

    /// `quanta eval` with samples on several threads gives the result of a serial run
    /// (figures added in sample order), labels included.
    func testParallelEvaluationIsTheSameAsSerial() throws {
        let dir = NSTemporaryDirectory() + "/quanta-eval-par-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let onnx = repositoryRoot + "/Models/digits_mobilenet.onnx", qmodel = dir + "/d.qmodel"
        _ = try QuantizePipeline.run(onnxPath: onnx, calibrationPath: repositoryRoot + "/Models/digits_calibration.npy",
                                     outputPath: qmodel, options: QuantizationOptions(), sampleLimit: 20)
        func evaluate(_ workers: Int) throws -> EvaluationResult {
            try Evaluator.evaluate(onnxPath: onnx, modelPath: qmodel, dataPath: repositoryRoot + "/Models/digits_eval.npy",
                                   labelsPath: repositoryRoot + "/Models/digits_eval_labels.npy", sampleLimit: 23, workers: workers)
        }
        let serial = try evaluate(1)
        XCTAssertEqual(serial.samples, 23)
        XCTAssertEqual(try evaluate(2), serial)
        XCTAssertEqual(try evaluate(5), serial)

        // The per-layer CSV (`quanta eval --csv`): a header and one row per layer, the
        // errors in steps of each layer's scale consistent with the absolute ones.
        let rows = serial.csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.first, "tensor,op,elements,sqnr_db,cosine,mean_abs_error,max_abs_error,scale,mean_error_steps,max_error_steps,clipping_share")
        XCTAssertEqual(rows.count, serial.layers.count + 1)
        for (row, layer) in zip(rows.dropFirst(), serial.layers) {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 11, row)
            let mean = try XCTUnwrap(Double(f[5])), maxError = try XCTUnwrap(Double(f[6])), scale = try XCTUnwrap(Double(f[7]))
            let meanSteps = try XCTUnwrap(Double(f[8])), clipping = try XCTUnwrap(Double(f[10]))
            XCTAssertEqual(Int(f[2]), layer.agreement.elementCount)
            XCTAssertLessThanOrEqual(mean, maxError, row)
            XCTAssertEqual(scale, Double(try XCTUnwrap(layer.scale)), accuracy: scale * 1e-7)
            XCTAssertEqual(meanSteps, mean / scale, accuracy: 1e-6 * max(1, meanSteps))
            XCTAssertTrue((0...1).contains(clipping), row)
        }
        // Written and read back as a baseline, the new fields survive; a baseline without
        // them (written before) still loads.
        let decoded = try EvaluationResult.decode(json: Array(try serial.json().utf8))
        XCTAssertEqual(decoded.layers.map(\.meanAbsError), serial.layers.map(\.meanAbsError))
        var old = serial
        old.layers = old.layers.map { LayerAgreement(tensor: $0.tensor, op: $0.op, agreement: $0.agreement) }
        XCTAssertNil(try EvaluationResult.decode(json: Array(try old.json().utf8)).layers.first?.scale)
        XCTAssertTrue(old.csv().split(separator: "\n")[1].hasSuffix(",,,,"), "unknown figures are empty fields")
    }
}

/// The C pooling and elementwise kernels of the float executor give FloatReference's bits:
/// random shapes (channel counts around the 8-wide blocks), windows cut by asymmetric
/// padding, clamps, per-channel broadcasts over several batches, and NaN and −0.0 inputs
/// (which max, the sums and the clamp must treat as the reference's `max`/`min` do).
final class FastPoolingAndElementwiseTests: XCTestCase {
    func testPoolingGivesTheReferenceBits() {
        var rng = ImportTestRandom(seed: 13)
        for trial in 0..<60 {
            let c = [1, 3, 8, 9, 16, 21][trial % 6]
            let k = 1 + trial % 3, s = 1 + (trial / 3) % 2
            let pad = Padding(top: trial % k, left: (trial / 2) % k, bottom: (trial / 5) % k, right: (trial / 7) % k)
            let inShape = TensorShape(n: 1 + trial % 2, h: 3 + trial % 6, w: 4 + trial % 5, c: c)
            let p = PoolParameters(kernelH: k, kernelW: k, strideH: s, strideW: s, padding: pad)
            let outShape = p.outputShape(input: inShape)
            guard outShape.h >= 1, outShape.w >= 1 else { continue }
            var input = rng.floats(inShape.elementCount, scale: 4)
            if trial % 3 == 0 {
                input[input.count / 3] = .nan
                input[input.count / 2] = -0.0
            }
            let clamp: FloatClamp = [.none, .relu, .relu6][trial % 3]
            for isMax in [true, false] {
                var expected = [Float](repeating: 1, count: outShape.elementCount), got = expected
                input.withUnsafeBufferPointer { i in
                    expected.withUnsafeMutableBufferPointer { o in
                        if isMax {
                            FloatReference.maxPool(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!, outputShape: outShape,
                                                   parameters: p, clamp: clamp)
                        } else {
                            FloatReference.averagePool(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!,
                                                       outputShape: outShape, parameters: p, clamp: clamp)
                        }
                    }
                    var g = quanta_float_pool_geometry(
                        batches: inShape.n, input_h: inShape.h, input_w: inShape.w, channels: c, output_h: outShape.h,
                        output_w: outShape.w, kernel_h: k, kernel_w: k, stride_h: s, stride_w: s, pad_top: pad.top, pad_left: pad.left)
                    let status = got.withUnsafeMutableBufferPointer { quanta_float_pool(i.baseAddress!, &g, isMax ? 1 : 0, $0.baseAddress!, clamp.min, clamp.max) }
                    XCTAssertEqual(status, 0)
                }
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "trial \(trial) max \(isMax): \(inShape) \(p)")
            }
            // Global average pooling of the same input.
            var expected = [Float](repeating: 1, count: inShape.n * c), got = expected
            input.withUnsafeBufferPointer { i in
                expected.withUnsafeMutableBufferPointer { FloatReference.globalAveragePool(input: i.baseAddress!, inputShape: inShape, output: $0.baseAddress!) }
                got.withUnsafeMutableBufferPointer { quanta_float_global_average_pool(i.baseAddress!, inShape.n, inShape.h * inShape.w, c, $0.baseAddress!) }
            }
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "trial \(trial) global: \(inShape)")
        }
        // A window wholly in the padding is an error, not a trap.
        var g = quanta_float_pool_geometry(batches: 1, input_h: 2, input_w: 2, channels: 1, output_h: 1, output_w: 1, kernel_h: 1,
                                           kernel_w: 1, stride_h: 1, stride_w: 1, pad_top: 5, pad_left: 0)
        var out: Float = 0
        XCTAssertEqual([Float](repeating: 0, count: 4).withUnsafeBufferPointer { quanta_float_pool($0.baseAddress!, &g, 1, &out, 0, 1) }, -1)
    }

    /// The C activations (relu, relu6, clip, hard-swish, hard-sigmoid, leaky relu) give
    /// `UnaryActivation.apply`'s bits, at their breakpoints (±0, -3, 3, 6, 1) and on NaN and
    /// ±inf too; counts around the 8-wide blocks.
    func testActivationsGiveTheReferenceBits() throws {
        var rng = ImportTestRandom(seed: 19)
        let special: [Float] = [0, -0.0, -3, 3, 6, -6, 1, -1, 0.5, .nan, .infinity, -.infinity, 2.5, -2.5, 1e-38, -1e-38]
        let kinds: [UnaryActivation] = [.relu, .relu6, .clip(min: -1.5, max: 0.25), .hardSwish,
                                        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), .leakyRelu(alpha: 0.1)]
        for (k, kind) in kinds.enumerated() {
            let (code, a, b) = try XCTUnwrap(FloatExecutor.vectorActivation(kind))
            for n in [1, 7, 8, 9, 23, special.count + 40] {
                var x = rng.floats(n, scale: 8)
                for i in 0..<min(n, special.count) { x[i] = special[i] }
                var expected = [Float](repeating: 1, count: n), got = expected
                x.withUnsafeBufferPointer { i in
                    expected.withUnsafeMutableBufferPointer { FloatReference.activation(input: i.baseAddress!, output: $0.baseAddress!, count: n, kind: kind) }
                    got.withUnsafeMutableBufferPointer { quanta_float_activation(i.baseAddress!, $0.baseAddress!, n, code, a, b) }
                }
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "kind \(k) \(kind), n \(n)")
            }
        }
        XCTAssertNil(FloatExecutor.vectorActivation(.sigmoid), "sigmoid calls expf: the reference loop")
    }

    func testElementwiseGivesTheReferenceBits() {
        var rng = ImportTestRandom(seed: 17)
        for trial in 0..<40 {
            let shape = TensorShape(n: 1 + trial % 3, h: 1 + trial % 4, w: 2 + trial % 3, c: [1, 5, 8, 13, 24][trial % 5])
            let perChannel = trial % 2 == 1
            let shape2 = perChannel ? TensorShape(n: trial % 4 == 1 ? 1 : shape.n, h: 1, w: 1, c: shape.c) : shape
            var a = rng.floats(shape.elementCount, scale: 5), b = rng.floats(shape2.elementCount, scale: 5)
            if trial % 4 == 0 {
                a[0] = .nan
                b[b.count - 1] = -0.0
                a[a.count - 1] = -0.0
            }
            let clamp: FloatClamp = [.none, .relu, .relu6][trial % 3]
            for multiply in [false, true] {
                var expected = [Float](repeating: 1, count: shape.elementCount), got = expected
                a.withUnsafeBufferPointer { x in
                    b.withUnsafeBufferPointer { y in
                        expected.withUnsafeMutableBufferPointer { o in
                            if multiply {
                                FloatReference.mul(input1: x.baseAddress!, shape1: shape, input2: y.baseAddress!, shape2: shape2,
                                                   output: o.baseAddress!, outputShape: shape, clamp: clamp)
                            } else {
                                FloatReference.add(input1: x.baseAddress!, shape1: shape, input2: y.baseAddress!, shape2: shape2,
                                                   output: o.baseAddress!, outputShape: shape, clamp: clamp)
                            }
                        }
                        got.withUnsafeMutableBufferPointer { o in
                            if !perChannel {
                                quanta_float_elementwise(x.baseAddress!, y.baseAddress!, 1, shape.elementCount, 0, multiply ? 1 : 0,
                                                         o.baseAddress!, clamp.min, clamp.max)
                                return
                            }
                            let pixels = shape.h * shape.w
                            for n in 0..<shape.n {
                                quanta_float_elementwise(x.baseAddress! + n * pixels * shape.c, y.baseAddress! + (shape2.n == 1 ? 0 : n * shape.c),
                                                         pixels, shape.c, 1, multiply ? 1 : 0, o.baseAddress! + n * pixels * shape.c,
                                                         clamp.min, clamp.max)
                            }
                        }
                    }
                }
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "trial \(trial) multiply \(multiply): \(shape) by \(shape2)")
            }
        }
    }
}
