import Foundation
import QuantaKernels
import XCTest
@testable import QuantaCompiler

/// Exporter node sequences (fixtures from Tools/fixtures/make_onnx_pattern_fixtures.py, whose
/// builders say which exporter writes each sequence): the fused float graph against
/// onnxruntime's run of the unfused model, the fused structure, and the int8 model against
/// the lookup-table error bound.
final class ONNXPatternTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/onnx_patterns/\(name)").path
    }

    private struct Loaded {
        var graph: Graph
        var input: [Float]  // NHWC
        var expected: [Float]  // NHWC
    }

    /// Imports `name` with dynamic dims resolved from its input's shape (as `quanta quantize`
    /// does from the calibration data), runs the standard passes and checks the float output
    /// against onnxruntime's.
    @discardableResult
    private func load(_ name: String, tolerance: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) throws -> Loaded {
        let inputPath = fixture("\(name)_input.npy")
        let shapes = ONNXInputShapes.resolve(onnxPath: fixture("\(name).onnx"), samplePath: inputPath, given: [:])
        var graph = try ONNXImporter.importModel(path: fixture("\(name).onnx"), options: ONNXImportOptions(inputShapes: shapes))
        try GraphPassPipeline.standard.run(on: &graph)
        let inTensor = graph.tensors[graph.inputs[0]]
        let input = LayoutConversion.toNHWC(try NumPy.read(inputPath).floats, shape: inTensor.shape, from: inTensor.sourceLayout)
        let outTensor = graph.tensors[graph.outputs[0]]
        let expected = LayoutConversion.toNHWC(
            try NumPy.read(fixture("\(name)_output.npy")).floats, shape: outTensor.shape, from: outTensor.sourceLayout)
        let got = try XCTUnwrap(try FloatExecutor(graph: graph).run(inputs: [input])[graph.outputs[0]], file: file, line: line)
        XCTAssertLessThanOrEqual(importMaxRelativeError(got, expected), tolerance, "\(name): \(graph.nodes.map { $0.op })", file: file, line: line)
        return Loaded(graph: graph, input: input, expected: expected)
    }

    /// The single activation the fused graph consists of.
    private func onlyActivation(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) -> UnaryActivation? {
        XCTAssertEqual(g.nodes.count, 1, "\(g.nodes.map { $0.op })", file: file, line: line)
        guard g.nodes.count == 1, case .activation(let kind) = g.nodes[0].op else { return nil }
        return kind
    }

    /// Quantizes the one-lookup-table graph on its own input and checks every int8 output
    /// (dequantized) against onnxruntime's float output:
    /// `|q - y| <= 0.5 * outScale + lipschitz * 0.5 * inScale` (+ float rounding): the input
    /// quantization moves x by at most half an input step, the table entry is the float
    /// function of the dequantized input rounded to the nearest output step.
    private func checkInt8(_ loaded: Loaded, lipschitz: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelQuantizer.quantize(graph: loaded.graph, calibration: [[loaded.input]])
        let session = try QuantizedSession(bytes: try ModelWriter().write(model))
        let got = session.run([loaded.input])[0]
        let inScale = model.tensors[model.inputs[0]].quantization.scale
        let outScale = model.tensors[model.outputs[0]].quantization.scale
        let bound = 0.5 * outScale + lipschitz * 0.5 * inScale
        var worst: Float = 0
        for (q, y) in zip(got, loaded.expected) { worst = max(worst, abs(q - y) - 1e-5 * max(1, abs(y))) }
        XCTAssertEqual(got.count, loaded.expected.count, file: file, line: line)
        XCTAssertLessThanOrEqual(worst, bound, "int8 error \(worst) > bound \(bound)", file: file, line: line)
    }

    // MARK: Hard-swish spellings → one `.hardSwish`

    func testPaddleHardSwishAddClipMulDivWithDynamicDimsFusesToOneLookupTable() throws {
        let l = try load("hardswish_paddle")
        XCTAssertEqual(l.graph.tensors[l.graph.inputs[0]].shape, TensorShape(n: 1, h: 5, w: 6, c: 4), "H, W from the data")
        XCTAssertEqual(onlyActivation(l.graph), .hardSwish)
        try checkInt8(l, lipschitz: 1.5)
    }

    func testTorchRelu6HardSwishOpset9FusesToOneLookupTable() throws {
        let l = try load("hardswish_torch_relu6")
        XCTAssertEqual(onlyActivation(l.graph), .hardSwish)
        try checkInt8(l, lipschitz: 1.5)
    }

    func testTorchHardSigmoidTimesXFusesToHardSwish() throws {
        let l = try load("hardswish_torch_hardsigmoid")
        XCTAssertEqual(onlyActivation(l.graph), .hardSwish)
        try checkInt8(l, lipschitz: 1.5)
    }

    func testKerasHardSwishBehindNHWCTransposesFusesAndKeepsNHWC() throws {
        let l = try load("hardswish_keras")
        XCTAssertEqual(onlyActivation(l.graph), .hardSwish)
        XCTAssertEqual(l.graph.tensors[l.graph.inputs[0]].sourceLayout, .nhwc)
        XCTAssertEqual(l.graph.tensors[l.graph.inputs[0]].shape, TensorShape(n: 1, h: 5, w: 6, c: 4))
        XCTAssertEqual(l.graph.tensors[l.graph.outputs[0]].sourceLayout, .nhwc)
        try checkInt8(l, lipschitz: 1.5)
    }

    func testMinMaxHardSwishFusesToOneLookupTable() throws {
        let l = try load("hardswish_minmax")
        XCTAssertEqual(onlyActivation(l.graph), .hardSwish)
        try checkInt8(l, lipschitz: 1.5)
    }

    // MARK: Hard-sigmoid, swish, clamps

    func testRelu6PlusThreeOverSixFusesToHardSigmoidOneSixth() throws {
        let l = try load("hardsigmoid_relu6")
        guard case .hardSigmoid(let a, let b)? = onlyActivation(l.graph) else { return XCTFail() }
        XCTAssertEqual(a, 1.0 / 6, accuracy: 1e-7)
        XCTAssertEqual(b, 0.5, accuracy: 1e-7)
        try checkInt8(l, lipschitz: 1.0 / 6)
    }

    func testMulAddClipFusesToHardSigmoidPointTwo() throws {
        let l = try load("hardsigmoid_affine")
        guard case .hardSigmoid(let a, let b)? = onlyActivation(l.graph) else { return XCTFail() }
        XCTAssertEqual(a, 0.2, accuracy: 1e-7)
        XCTAssertEqual(b, 0.5, accuracy: 1e-7)
        try checkInt8(l, lipschitz: 0.2)
    }

    func testXTimesSigmoidFusesToSwish() throws {
        let l = try load("swish")
        XCTAssertEqual(onlyActivation(l.graph), .swish)
        try checkInt8(l, lipschitz: 1.1)
    }

    func testReluThenClipAttributesOpset7IsOneRelu6() throws {
        let l = try load("relu6_onnx_tf")
        XCTAssertEqual(onlyActivation(l.graph), .relu6)
        try checkInt8(l, lipschitz: 1)
    }

    func testClipWithOnlyMinThenOnlyMaxMergesToOneClip() throws {
        let l = try load("clip_min_only")
        XCTAssertEqual(onlyActivation(l.graph), .clip(min: -1, max: 2))
        try checkInt8(l, lipschitz: 1)
    }

    // MARK: Blocks

    func testPaddleMobileNetV3BlockFoldsBatchNormAndFusesHardSwish() throws {
        let l = try load("paddle_mbv3_block", tolerance: 1e-4)
        let ops = l.graph.nodes.map { $0.op }
        XCTAssertEqual(ops.filter { if case .activation(.hardSwish) = $0 { return true }; return false }.count, 2)
        XCTAssertEqual(ops.filter { if case .conv2D = $0 { return true }; return false }.count, 5, "BN folded, bias adds folded")
        XCTAssertEqual(ops.filter { if case .mul = $0 { return true }; return false }.count, 1, "only the SE gate")
        XCTAssertEqual(ops.filter { if case .add = $0 { return true }; return false }.count, 0)
        XCTAssertEqual(l.graph.nodes.count, 10, "\(ops)")
    }

    func testTorchSqueezeExciteWithGemmReshapeAndExpandAs() throws {
        let l = try load("torch_se_gemm", tolerance: 1e-4)
        XCTAssertEqual(l.graph.tensors[l.graph.inputs[0]].shape, TensorShape(n: 1, h: 10, w: 12, c: 3))
        let ops = l.graph.nodes.map { $0.op }
        XCTAssertEqual(ops.filter { if case .fullyConnected = $0 { return true }; return false }.count, 2)
        XCTAssertEqual(ops.filter { if case .mul = $0 { return true }; return false }.count, 1)
    }

    func testKerasSqueezeExciteMatMulAndConstantArithmeticFoldIntoConv() throws {
        let l = try load("keras_se_matmul", tolerance: 1e-4)
        let ops = l.graph.nodes.map { $0.op }
        guard case .conv2D(let conv) = ops.first else { return XCTFail("\(ops)") }
        XCTAssertEqual(conv.clamp, .relu, "bias Add, Mul, Sub, Div and Relu all folded into the conv")
        XCTAssertEqual(ops.filter { if case .conv2D = $0 { return true }; return false }.count, 1, "\(ops)")
        XCTAssertTrue(ops.contains { if case .activation(.hardSigmoid) = $0 { return true }; return false }, "\(ops)")
        XCTAssertEqual(l.graph.nodes.count, 6, "conv, gap, fc, fc, hard-sigmoid, mul: \(ops)")
    }

    func testShapeSubgraphsConstantOfShapeWhereAndPReluWithDynamicDims() throws {
        let l = try load("dynamic_shape_ops", tolerance: 1e-4)
        XCTAssertEqual(l.graph.tensors[l.graph.inputs[0]].shape, TensorShape(n: 1, h: 7, w: 9, c: 3))
        XCTAssertEqual(l.graph.tensors[l.graph.outputs[0]].shape, TensorShape(n: 1, h: 1, w: 1, c: 6))
    }

    func testInputNormalizationMergesIntoOneAffineBeforeThePaddedConv() throws {
        let l = try load("input_normalization", tolerance: 1e-5)
        let ops = l.graph.nodes.map { $0.op }
        XCTAssertEqual(l.graph.nodes.count, 3, "affine (Sub, Div, 1 - x merged), conv (Mul folded), mean: \(ops)")
        guard case .conv2D(let affine) = ops.first else { return XCTFail("\(ops)") }
        XCTAssertEqual(affine.filter.kernelH, 1)
        XCTAssertEqual(affine.parameters.groups, 3)
        guard case .globalAveragePool = ops.last else { return XCTFail("\(ops)") }
    }

    // MARK: Resize / Upsample

    func testNearestResizeWithScalesAndSizesMatchesOnnxRuntime() throws {
        let l = try load("resize_nearest", tolerance: 1e-5)
        XCTAssertEqual(l.graph.tensors[l.graph.outputs[0]].shape, TensorShape(n: 1, h: 30, w: 10, c: 4))
        XCTAssertEqual(l.graph.nodes.filter { if case .upsampleNearest = $0.op { return true }; return false }.count, 2)
        XCTAssertFalse(l.graph.nodes.contains { if case .transposeConv2D = $0.op { return true }; return false })
    }

    /// Quantizes a graph of copies/interpolations applied to its input and checks the int8
    /// output (dequantized) against onnxruntime: within `steps` output steps (input and output
    /// share quantization, so the input's own rounding is half a step of it).
    private func checkInt8Copy(_ l: Loaded, steps: Float, file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let model = try ModelQuantizer.quantize(graph: l.graph, calibration: [[l.input]])
        let session = try QuantizedSession(bytes: try ModelWriter().write(model))
        let got = session.run([l.input])[0]
        XCTAssertEqual(model.tensors[model.inputs[0]].quantization, model.tensors[model.outputs[0]].quantization, file: file, line: line)
        let step = model.tensors[model.outputs[0]].quantization.scale
        let worst = zip(got, l.expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertEqual(got.count, l.expected.count, file: file, line: line)
        XCTAssertLessThanOrEqual(worst, steps * step * (1 + 1e-5), "int8 error \(worst / step) steps", file: file, line: line)
        return got
    }

    private func count(_ g: Graph, _ match: (GraphOp) -> Bool) -> Int { g.nodes.filter { match($0.op) }.count }

    func testReflectAndEdgePadMatchOnnxRuntimeAndAreExactCopiesInInt8() throws {
        let l = try load("pad_reflect_edge", tolerance: 0)
        XCTAssertEqual(count(l.graph) { if case .borderPad(_, .reflect) = $0 { return true }; return false }, 1)
        XCTAssertEqual(count(l.graph) { if case .borderPad(_, .edge) = $0 { return true }; return false }, 1)
        XCTAssertEqual(l.graph.tensors[l.graph.outputs[0]].shape, TensorShape(n: 1, h: 8, w: 11, c: 3))
        _ = try checkInt8Copy(l, steps: 0.5)  // a copy of the quantized input
    }

    func testPadOpset2AttributesReflectByTheLargestAllowedAmount() throws {
        let l = try load("pad_reflect_opset2", tolerance: 1e-5)
        guard case .borderPad(let p, .reflect)? = l.graph.nodes.last?.op else { return XCTFail("\(l.graph.nodes.map { $0.op })") }
        XCTAssertEqual(p, Padding(top: 2, left: 3, bottom: 2, right: 3))
    }

    func testBilinearResizeTorchPytorchHalfPixelAndAlignCornersMatchOnnxRuntime() throws {
        let l = try load("resize_bilinear_torch", tolerance: 1e-5)
        XCTAssertEqual(count(l.graph) { if case .resizeBilinear = $0 { return true }; return false }, 2)
        // Two interpolations: each adds at most half a step of rounding and a quarter step of
        // Q10 weight rounding to the input's half step.
        _ = try checkInt8Copy(l, steps: 2)
    }

    func testBilinearResizeNonIntegerSizesAndDownscaleMatchOnnxRuntime() throws {
        let l = try load("resize_bilinear_nonint", tolerance: 1e-5)
        XCTAssertEqual(l.graph.tensors[l.graph.outputs[0]].shape, TensorShape(n: 1, h: 4, w: 8, c: 2))
        _ = try checkInt8Copy(l, steps: 2)
    }

    /// One node on a `[1, 2, 4, 5]` input, its constant inputs as initializers.
    private func importSingle(
        _ op: String, _ inputs: [String], initializers: [ProtoWriter], attributes: [(String, ONNXBuilder.Attr)]
    ) throws -> Graph {
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node(op, ["x"] + inputs, ["y"], name: "n", attributes: attributes)], initializers: initializers,
            inputs: [ONNXBuilder.valueInfo("x", [.value(1), .value(2), .value(4), .value(5)])],
            outputs: [ONNXBuilder.valueInfo("y", [])])
        return try ONNXImporter.importModel(bytes: bytes)
    }

    func testPadWrapReflectTooFarCubicAndNonIntegerNearestAreClearErrors() {
        let pads = { (v: [Int64]) in ONNXBuilder.int64Tensor("p", v) }
        func check(_ body: @autoclosure () throws -> Graph, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                guard case .unsupportedAttribute(let node, _, let detail)? = error as? ONNXImportError else {
                    return XCTFail("\(error)", line: line)
                }
                XCTAssertEqual(node, "n", line: line)
                XCTAssertTrue(detail.contains(fragment), detail, line: line)
            }
        }
        check(try importSingle("Pad", ["p"], initializers: [pads([0, 0, 1, 1, 0, 0, 1, 1])], attributes: [("mode", .string("wrap"))]), "wrap")
        check(try importSingle("Pad", ["p"], initializers: [pads([0, 0, 0, 5, 0, 0, 0, 0])], attributes: [("mode", .string("reflect"))]), "below")
        let scales = ONNXBuilder.tensor("s", dims: [4], floats: [1, 1, 2, 2])
        check(try importSingle("Resize", ["", "s"], initializers: [scales], attributes: [("mode", .string("cubic"))]), "cubic")
        let odd = ONNXBuilder.tensor("s", dims: [4], floats: [1, 1, 1.5, 2])
        check(try importSingle("Resize", ["", "s"], initializers: [odd], attributes: [
            ("mode", .string("nearest")), ("coordinate_transformation_mode", .string("asymmetric")), ("nearest_mode", .string("floor"))]),
            "integer")
    }

    func testEdgePadByZeroAndBilinearResizeByOneAreIdentities() throws {
        let zero = try importSingle(
            "Pad", ["p"], initializers: [ONNXBuilder.int64Tensor("p", [0, 0, 0, 0, 0, 0, 0, 0])], attributes: [("mode", .string("edge"))])
        XCTAssertTrue(zero.nodes.isEmpty, "\(zero.nodes.map { $0.op })")
        let one = try importSingle(
            "Resize", ["", "s"], initializers: [ONNXBuilder.tensor("s", dims: [4], floats: [1, 1, 1, 1])], attributes: [("mode", .string("linear"))])
        XCTAssertTrue(one.nodes.isEmpty, "\(one.nodes.map { $0.op })")
    }

    func testBilinearUpsampleOpset9ResizeOpset10AndOpset18AxesMatchOnnxRuntime() throws {
        for name in ["upsample_bilinear_opset9", "resize_bilinear_opset10", "resize_bilinear_opset18"] {
            let l = try load(name, tolerance: 1e-5)
            XCTAssertEqual(l.graph.nodes.count, 1, name)
            _ = try checkInt8Copy(l, steps: 1.25)
        }
    }

    func testUpsampleOpset7AttributesResizeOpset10InputsAndOpset18AxesMatchOnnxRuntime() throws {
        let seven = try load("upsample_opset7", tolerance: 1e-5)
        XCTAssertEqual(seven.graph.tensors[seven.graph.outputs[0]].shape, TensorShape(n: 1, h: 6, w: 24, c: 3))
        let ten = try load("resize_opset10", tolerance: 1e-5)
        XCTAssertEqual(ten.graph.tensors[ten.graph.outputs[0]].shape, TensorShape(n: 1, h: 9, w: 8, c: 3))
        let eighteen = try load("resize_opset18_axes", tolerance: 1e-5)
        XCTAssertEqual(eighteen.graph.tensors[eighteen.graph.outputs[0]].shape, TensorShape(n: 1, h: 6, w: 8, c: 3))
    }

    func testUpsampleOpset9IsABlockCopyInInt8() throws {
        let l = try load("upsample_opset9", tolerance: 1e-5)
        let model = try ModelQuantizer.quantize(graph: l.graph, calibration: [[l.input]])
        let session = try QuantizedSession(bytes: try ModelWriter().write(model))
        let got = session.run([l.input])[0]
        let s = model.tensors[model.outputs[0]].shape
        XCTAssertEqual(s, TensorShape(n: 1, h: 8, w: 15, c: 4))
        for y in 0..<s.h { for x in 0..<s.w { for c in 0..<s.c {
            // Every output pixel equals the top-left pixel of its 2×3 block.
            XCTAssertEqual(got[s.index(0, y, x, c)], got[s.index(0, y - y % 2, x - x % 3, c)])
        } } }
        let step = model.tensors[model.outputs[0]].quantization.scale
        let worst = zip(got, l.expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 3 * step, "conv + relu + upsample within 3 output steps of float")
    }

    // MARK: Dynamic dims

    func testUnresolvedDynamicDimensionNamesInputAxisAndReadingNode() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("hardswish_paddle.onnx"))) { error in
            guard case .unresolvedDynamicDimension(let input, let axis, _, let node)? =
                (error as? SourcedError)?.underlying as? ONNXImportError ?? error as? ONNXImportError
            else { return XCTFail("\(error)") }
            XCTAssertEqual(input, "x")
            XCTAssertEqual(axis, 2)
            XCTAssertTrue(node.hasPrefix("Add"), node)
        }
    }

    func testInputShapesFromDataOnlyWhereDynamicAndConsistent() throws {
        let model = fixture("hardswish_paddle.onnx")
        XCTAssertEqual(ONNXInputShapes.resolve(onnxPath: model, samplePath: fixture("hardswish_paddle_input.npy"), given: [:]),
                       ["x": [1, 4, 5, 6]])
        XCTAssertEqual(ONNXInputShapes.resolve(onnxPath: model, samplePath: fixture("hardswish_paddle_input.npy"),
                                                   given: ["x": [1, 4, 8, 8]]), ["x": [1, 4, 8, 8]], "a given shape wins")
        // The block's input has 3 channels: data with 4 does not fit, nothing is resolved.
        XCTAssertEqual(ONNXInputShapes.resolve(onnxPath: fixture("paddle_mbv3_block.onnx"),
                                                   samplePath: fixture("hardswish_paddle_input.npy"), given: [:]), [:])
        // A fully static model needs nothing.
        XCTAssertEqual(ONNXInputShapes.resolve(onnxPath: fixture("swish.onnx"), samplePath: fixture("swish_input.npy"), given: [:]), [:])
    }
}
