import Foundation
import QuantaKernels
import XCTest
@testable import QuantaCompiler

final class ONNXImporterTests: XCTestCase {
    // MARK: End to end against onnxruntime (fixtures from Tools/fixtures/make_onnx_import_fixtures.py)

    private func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/onnx/\(name)").path
    }

    private func nchwToNHWC(_ x: [Float], _ s: TensorShape) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<s.n { for c in 0..<s.c { for y in 0..<s.h { for w in 0..<s.w {
            out[s.index(b, y, w, c)] = x[((b * s.c + c) * s.h + y) * s.w + w]
        } } } }
        return out
    }

    /// Imports `name`, runs it with FloatExecutor before and after the standard passes,
    /// and compares with onnxruntime's output. Returns both graphs.
    @discardableResult
    private func checkAgainstOnnxRuntime(
        _ name: String, model: String? = nil, directory: String? = nil, tolerance: Float = 1e-4,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> (raw: Graph, optimized: Graph) {
        func path(_ file: String) -> String { directory.map { "\($0)/\(file)" } ?? fixture(file) }
        let input = try NumPy.read(path("\(name)_input.npy"))
        let expected = try NumPy.read(path("\(name)_output.npy"))
        let raw = try ONNXImporter.importModel(
            path: model ?? path("\(name).onnx"), options: ONNXImportOptions(batchSize: input.shape[0]))
        var optimized = raw
        try GraphPassPipeline.standard.run(on: &optimized)
        for graph in [raw, optimized] {
            XCTAssertEqual(graph.inputs.count, 1, file: file, line: line)
            let inShape = graph.tensors[graph.inputs[0]].shape
            let held = graph.tensors[graph.inputs[0]].sourceLayout == .nhwc ? input.floats : nchwToNHWC(input.floats, inShape)
            let values = try FloatExecutor(graph: graph).run(inputs: [held])
            let out = graph.tensors[graph.outputs[0]]
            let got = try XCTUnwrap(values[graph.outputs[0]], file: file, line: line)
            let want = out.sourceLayout == .nchw ? nchwToNHWC(expected.floats, out.shape) : expected.floats
            let error = importMaxRelativeError(got, want)
            XCTAssertLessThanOrEqual(error, tolerance, "\(name) (\(graph.nodes.count) nodes)", file: file, line: line)
        }
        return (raw, optimized)
    }

    /// `quanta quantize` of fixture `name` on its input as the calibration set: the output
    /// SQNR of int8 against float on it.
    private func quantizedSQNR(_ name: String) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = QuantizationOptions()
        options.calibrationWorkers = 1
        let result = try QuantizePipeline.run(
            onnxPath: fixture("\(name).onnx"), calibrationPath: fixture("\(name)_input.npy"),
            outputPath: dir + "/m.qmodel", options: options)
        return Double(result.summary.agreement.sqnr)
    }

    func testConvBatchNormReluMatchesOnnxRuntimeAndFoldsToTwoConvs() throws {
        let (raw, optimized) = try checkAgainstOnnxRuntime("conv_bn_relu")
        XCTAssertEqual(raw.inputs.count, 1, "initializers listed as inputs are not inputs")
        XCTAssertEqual(raw.tensors[raw.inputs[0]].shape, TensorShape(n: 1, h: 8, w: 8, c: 3), "dynamic batch resolves to 1")
        XCTAssertEqual(raw.tensors[raw.inputs[0]].sourceLayout, .nchw)
        XCTAssertEqual(optimized.nodes.count, 2)
        guard case .conv2D(let first) = optimized.nodes[0].op, case .conv2D(let second) = optimized.nodes[1].op else {
            return XCTFail("expected two convolutions, got \(optimized.nodes.map { $0.op })")
        }
        XCTAssertEqual(first.clamp, .relu)
        XCTAssertEqual(second.clamp, .relu6)
        XCTAssertEqual(optimized.tensors[optimized.outputs[0]].sourceLayout, .nchw)
    }

    func testDepthwiseWithSamePaddingPadAndPoolsMatchesOnnxRuntime() throws {
        let (_, optimized) = try checkAgainstOnnxRuntime("depthwise")
        XCTAssertFalse(optimized.nodes.contains { if case .pad = $0.op { return true } else { return false } }, "pad folds into the conv")
    }

    func testGroupedDilatedAndAsymmetricConvsMatchOnnxRuntime() throws {
        try checkAgainstOnnxRuntime("grouped")
    }

    func testChannelShufflePatternBecomesChannelShuffleOp() throws {
        let (raw, _) = try checkAgainstOnnxRuntime("channel_shuffle")
        XCTAssertTrue(raw.nodes.contains { if case .channelShuffle(groups: 2) = $0.op { return true } else { return false } })
        XCTAssertTrue(raw.nodes.contains { if case .sliceChannels(start: 2, count: 5) = $0.op { return true } else { return false } })
    }

    func testSqueezeExciteBlockWithConstantsAndTransposedConvMatchesOnnxRuntime() throws {
        try checkAgainstOnnxRuntime("se_block")
    }

    func testGemmHeadWithShapeArithmeticMatchesOnnxRuntime() throws {
        let (raw, optimized) = try checkAgainstOnnxRuntime("gemm_head")
        let out = raw.tensors[raw.outputs[0]]
        XCTAssertEqual(out.shape, TensorShape(n: 1, h: 1, w: 1, c: 10))
        XCTAssertEqual(out.sourceLayout, .nc)
        let fcs = optimized.nodes.filter { if case .fullyConnected = $0.op { return true } else { return false } }
        XCTAssertEqual(fcs.count, 2, "MatMul + Add becomes one fully connected layer")
        XCTAssertFalse(raw.nodes.contains { if case .add = $0.op { return true } else { return false } })
    }

    func testFlattenOfSpatialTensorPermutesGemmColumns() throws {
        try checkAgainstOnnxRuntime("flatten_gemm")
    }

    func testClipAttributesAtOpset9AndInputsAtOpset13AgreeWithOnnxRuntime() throws {
        let (raw9, _) = try checkAgainstOnnxRuntime("clip_opset9")
        let (raw13, _) = try checkAgainstOnnxRuntime("clip_opset13")
        for (graph, opset9) in [(raw9, true), (raw13, false)] {
            let kinds = graph.nodes.compactMap { node -> UnaryActivation? in
                if case .activation(let k) = node.op { return k } else { return nil }
            }
            XCTAssertEqual(kinds, [.relu6, .clip(min: -1, max: 0.5), .clip(min: opset9 ? -0.5 : -.infinity, max: 3), .sigmoid])
            // Standalone BatchNormalization: a 1×1 depthwise convolution.
            guard case .conv2D(let bn) = graph.nodes[0].op else { return XCTFail("expected BN as conv") }
            XCTAssertEqual(bn.parameters.groups, 4)
            XCTAssertEqual(bn.filter, FilterShape(outputChannels: 4, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1))
        }
    }

    func testOpset9AttributeFormsOfPadSplitAndSliceMatchOnnxRuntime() throws {
        let (raw, _) = try checkAgainstOnnxRuntime("legacy_opset9")
        XCTAssertTrue(raw.nodes.contains { if case .pad(Padding(top: 1, left: 2, bottom: 2, right: 1), 0) = $0.op { return true } else { return false } })
    }

    /// YOLOv5's Focus stem (Slices of step 2 on H and W), a flip (step −1), Split along W and
    /// Concat along W and H: strided copies of the NHWC storage and the channel concat of
    /// row views, the float graph as onnxruntime; quantized, the int8 model follows it.
    func testSlicesWithStepsAndSplitsAndConcatsOfAnyAxisMatchOnnxRuntime() throws {
        let (raw, _) = try checkAgainstOnnxRuntime("layout_moves")
        let copies = raw.nodes.filter { if case .stridedCopy = $0.op { return true } else { return false } }
        let concats = raw.nodes.filter { if case .concat = $0.op { return true } else { return false } }
        XCTAssertEqual(copies.count, 7)  // 4 Focus slices, the flip, the two parts of the split
        XCTAssertEqual(concats.count, 3)
        XCTAssertGreaterThan(try quantizedSQNR("layout_moves"), 25)
    }

    /// A detector head: Reshape [1,16,8,8] → [1,16,64] and Transpose of rank 3, Softmax over
    /// the last axis of [1,64,4,4], Sigmoid, Concat of rank-3 tensors along their last
    /// axis — tensors held in ONNX order between strided copies. The float graph gives
    /// onnxruntime's [1, 64, 21]; quantized, the int8 model follows it.
    func testDetectorHeadReshapesTransposesAndSoftmaxMatchOnnxRuntime() throws {
        let (raw, optimized) = try checkAgainstOnnxRuntime("detector_head")
        // The layout copy into ONNX order and the Transpose after it are one copy.
        func copies(_ g: Graph) -> Int { g.nodes.filter { if case .stridedCopy = $0.op { return true } else { return false } }.count }
        XCTAssertLessThan(copies(optimized), copies(raw))
        XCTAssertEqual(raw.tensors[raw.outputs[0]].shape, TensorShape(n: 1, h: 1, w: 64, c: 21))
        XCTAssertEqual(raw.tensors[raw.outputs[0]].sourceLayout, .nhwc)  // already in ONNX order
        XCTAssertGreaterThan(try quantizedSQNR("detector_head"), 25)
    }

    /// Ops on tensors held in ONNX order (a rank-3 input; Gather with uneven indices,
    /// ReduceMax/ReduceMean over inner axes, Neg, Elu, Softplus, Unsqueeze, Concat with a
    /// constant, GlobalMaxPool): the float graph as onnxruntime, the int8 model close to it.
    func testPlainTensorOpsMatchOnnxRuntime() throws {
        let (raw, _) = try checkAgainstOnnxRuntime("plain_ops")
        XCTAssertEqual(raw.tensors[raw.inputs[0]].sourceLayout, .nhwc)  // rank 3: held as it is
        XCTAssertGreaterThan(try quantizedSQNR("plain_ops"), 30)
    }

    /// Elementwise ops across holdings: an ONNX-order activation added to an NHWC one of
    /// the same (square) shape is copied back to NHWC first; Max, Mul and a constant-first
    /// Sub on it keep its order, with constants broadcast in ONNX order.
    func testElementwiseOpsAcrossHoldingsMatchOnnxRuntime() throws {
        _ = try checkAgainstOnnxRuntime("mixed_holdings")
        XCTAssertGreaterThan(try quantizedSQNR("mixed_holdings"), 30)
    }

    /// A model with two outputs: `quanta quantize` reports the agreement of each, by name.
    func testQuantizeSummaryReportsEveryOutput() throws {
        let w = ONNXBuilder.tensor("w", dims: [2, 3, 1, 1], floats: [1, 2, 3, -4, 5, -6])
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["x", "w"], ["y"], name: "conv0"), ONNXBuilder.node("Sigmoid", ["y"], ["p"], name: "s"),
                    ONNXBuilder.node("GlobalAveragePool", ["y"], ["g"], name: "gap")],
            initializers: [w], inputs: [ONNXBuilder.valueInfo("x", fixed)],
            outputs: [ONNXBuilder.valueInfo("p", []), ONNXBuilder.valueInfo("g", [])])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("two-outputs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileIO.writeAtomically(bytes, to: dir + "/m.onnx")
        var random = ImportTestRandom(seed: 5)
        try NumPy.write(NumPyArray(shape: [8, 3, 4, 4], float32: random.floats(8 * 48, scale: 2)), to: dir + "/x.npy")
        var options = QuantizationOptions()
        options.calibrationWorkers = 2
        let summary = try QuantizePipeline.run(
            onnxPath: dir + "/m.onnx", calibrationPath: dir + "/x.npy", outputPath: dir + "/m.qmodel", options: options).summary
        XCTAssertEqual(summary.otherOutputs.map(\.name), ["g"])
        XCTAssertGreaterThan(summary.otherOutputs[0].agreement.sqnr, 30)
        XCTAssertTrue(summary.text().contains("output 'g' SQNR"))
    }

    /// SpaceToDepth, DepthToSpace in DCR and CRD modes: one six-axis strided copy each.
    func testDepthToSpaceAndSpaceToDepthMatchOnnxRuntime() throws {
        let (raw, _) = try checkAgainstOnnxRuntime("depth_space")
        XCTAssertEqual(raw.nodes.filter { if case .stridedCopy = $0.op { return true } else { return false } }.count, 3)
    }

    func testDigitsMobileNetWithBatchOf4MatchesOnnxRuntime() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (raw, optimized) = try checkAgainstOnnxRuntime("digits_mobilenet", model: root.appendingPathComponent("Models/digits_mobilenet.onnx").path)
        XCTAssertEqual(raw.tensors[raw.inputs[0]].shape, TensorShape(n: 4, h: 16, w: 16, c: 1))
        XCTAssertFalse(optimized.nodes.contains { node in
            if case .conv2D(let c) = node.op { return FoldBatchNormPass.affine(node.op) != nil && c.filter.outputChannels > 1 } else { return false }
        }, "every BatchNormalization folds into its conv")
    }

    /// Every `X.onnx` with `X_input.npy` and `X_output.npy` (onnxruntime's) in the folder
    /// named by QUANTA_ONNX_CHECK_DIR (e.g. models from Tools/models/make_mobilenet_family.py).
    func testModelsInCheckDirectoryMatchOnnxRuntime() throws {
        guard let dir = ProcessInfo.processInfo.environment["QUANTA_ONNX_CHECK_DIR"] else {
            throw XCTSkip("set QUANTA_ONNX_CHECK_DIR to check a folder of models")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".onnx") }
            .map { String($0.dropLast(5)) }.filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)_output.npy") }
        XCTAssertFalse(names.isEmpty)
        for name in names.sorted() {
            XCTAssertNoThrow(try checkAgainstOnnxRuntime(name, directory: dir, tolerance: 1e-4), name)
        }
    }

    // MARK: Errors

    private func convModel(opType: String = "Conv", nodeName: String = "conv0", inputDims: [ONNXBuilder.Dim], externalWeights: Bool = false,
                           extraNodes: [ProtoWriter] = [], output: String = "y") -> [UInt8] {
        let w = ONNXBuilder.tensor("w", dims: [2, 3, 1, 1], floats: [1, 2, 3, 4, 5, 6], externalData: externalWeights)
        return ONNXBuilder.model(
            nodes: [ONNXBuilder.node(opType, ["x", "w"], ["y"], name: nodeName)] + extraNodes, initializers: [w],
            inputs: [ONNXBuilder.valueInfo("x", inputDims)], outputs: [ONNXBuilder.valueInfo(output, [])])
    }

    private let fixed: [ONNXBuilder.Dim] = [.value(1), .value(3), .value(4), .value(4)]

    func testHandBuiltModelImportsWithOHWIWeights() throws {
        let graph = try ONNXImporter.importModel(bytes: convModel(inputDims: fixed))
        guard case .conv2D(let conv) = graph.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(conv.weights, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(conv.bias, [0, 0])
        XCTAssertEqual(graph.tensors[graph.outputs[0]].shape, TensorShape(n: 1, h: 4, w: 4, c: 2))
    }

    func testUnsupportedOpNamesNodeOpAndSupportedList() {
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: convModel(opType: "LSTM", nodeName: "rnn", inputDims: fixed))) { error in
            XCTAssertEqual(error as? ONNXImportError, .unsupportedOp(node: "rnn", opType: "LSTM", supported: ONNXImporter.supportedOps))
            XCTAssertTrue("\(error)".contains("Conv"))
        }
    }

    func testExternalDataIsAClearError() {
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: convModel(inputDims: fixed, externalWeights: true))) { error in
            XCTAssertEqual(error as? ONNXImportError, .externalData(tensor: "w"))
        }
    }

    func testTruncatedFileIsMalformedProtobufWithOffset() {
        let bytes = convModel(inputDims: fixed)
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: Array(bytes.prefix(bytes.count - 3)))) { error in
            guard case .malformedProtobuf(let inner)? = error as? ONNXImportError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(inner)".contains("byte"), "\(inner)")
        }
    }

    func testDynamicSpatialDimensionNeedsAnInputShape() throws {
        let dims: [ONNXBuilder.Dim] = [.param("batch"), .value(3), .param("height"), .value(4)]
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: convModel(inputDims: dims))) { error in
            XCTAssertEqual(error as? ONNXImportError, .unresolvedDynamicDimension(input: "x", axis: 2, dimension: "height", node: "conv0"))
        }
        let graph = try ONNXImporter.importModel(
            bytes: convModel(inputDims: dims), options: ONNXImportOptions(inputShapes: ["x": [1, 3, 5, 4]]))
        XCTAssertEqual(graph.tensors[graph.inputs[0]].shape, TensorShape(n: 1, h: 5, w: 4, c: 3))
    }

    /// A Transpose outside the channel-shuffle pattern is a strided copy of the NHWC storage
    /// into ONNX order: `z[n, c, w, h] = y[n, c, h, w]`, element for element.
    func testTransposeOfAnyPermutationIsAStridedCopyIntoONNXOrder() throws {
        let t = ONNXBuilder.node("Transpose", ["y"], ["z"], name: "swap", attributes: [("perm", .ints([0, 1, 3, 2]))])
        let graph = try ONNXImporter.importModel(bytes: convModel(inputDims: fixed, extraNodes: [t], output: "z"))
        guard case .stridedCopy = graph.nodes.last?.op else { return XCTFail("expected a strided copy") }
        XCTAssertEqual(graph.tensors[graph.outputs[0]].sourceLayout, .nhwc)
        let input = (0..<48).map { Float($0 % 7) - 3 }
        let values = try FloatExecutor(graph: graph).run(inputs: [input])
        let y = try XCTUnwrap(values[graph.nodes[0].outputs[0]]), z = try XCTUnwrap(values[graph.outputs[0]])
        for c in 0..<2 {
            for h in 0..<4 {
                for w in 0..<4 { XCTAssertEqual(z[(c * 4 + w) * 4 + h], y[(h * 4 + w) * 2 + c]) }
            }
        }
    }

    /// Two convolutions reading one `[N, C, H, W]` held in ONNX order share one NHWC copy of it.
    func testReadersOfATensorInONNXOrderShareOneNHWCCopy() throws {
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["x", "w"], ["y"], name: "conv0"),
                    ONNXBuilder.node("Reshape", ["y", "s3"], ["r3"], name: "to3"),
                    ONNXBuilder.node("Reshape", ["r3", "s4"], ["r4"], name: "to4"),
                    ONNXBuilder.node("Conv", ["r4", "w2"], ["a"], name: "conv1"),
                    ONNXBuilder.node("Conv", ["r4", "w2"], ["b"], name: "conv2"),
                    ONNXBuilder.node("Add", ["a", "b"], ["z"], name: "add")],
            initializers: [ONNXBuilder.tensor("w", dims: [2, 3, 1, 1], floats: [1, 2, 3, 4, 5, 6]),
                           ONNXBuilder.int64Tensor("s3", [1, 2, 16]), ONNXBuilder.int64Tensor("s4", [1, 2, 4, 4]),
                           ONNXBuilder.tensor("w2", dims: [2, 2, 1, 1], floats: [1, 0, 0, 1])],
            inputs: [ONNXBuilder.valueInfo("x", fixed)], outputs: [ONNXBuilder.valueInfo("z", [])])
        let graph = try ONNXImporter.importModel(bytes: bytes)
        let copies = graph.nodes.filter { if case .stridedCopy = $0.op { return true } else { return false } }
        XCTAssertEqual(copies.count, 2)  // into ONNX order for the reshapes, back to NHWC once
        // conv2 of the identity weights twice: z = 2·y, element for element.
        let input = (0..<48).map { Float($0 % 5) - 2 }
        let values = try FloatExecutor(graph: graph).run(inputs: [input])
        let y = try XCTUnwrap(values[graph.nodes[0].outputs[0]]), z = try XCTUnwrap(values[graph.outputs[0]])
        XCTAssertEqual(z, y.map { 2 * $0 })
    }

    /// A tensor held in ONNX order that is not [N, C, H, W] or [N, C] cannot feed a
    /// convolution: the error names the node and the shape.
    func testRankThreeTensorIntoAConvolutionIsNamed() {
        let shape = ONNXBuilder.int64Tensor("s", [1, 2, 16])
        let r = ONNXBuilder.node("Reshape", ["y", "s"], ["r"], name: "to3")
        let w = ONNXBuilder.tensor("w2", dims: [2, 2, 1, 1], floats: [1, 0, 0, 1])
        let c = ONNXBuilder.node("Conv", ["r", "w2"], ["z"], name: "conv1")
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["x", "w"], ["y"], name: "conv0"), r, c],
            initializers: [ONNXBuilder.tensor("w", dims: [2, 3, 1, 1], floats: [1, 2, 3, 4, 5, 6]), shape, w],
            inputs: [ONNXBuilder.valueInfo("x", fixed)], outputs: [ONNXBuilder.valueInfo("z", [])])
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: bytes)) { error in
            XCTAssertEqual(error as? ONNXImportError, .unsupportedPattern(
                node: "conv1", opType: "Conv", detail: "a rank-3 tensor [1, 2, 16] where [N, C, H, W] or [N, C] is needed"))
        }
    }

    func testMissingWeightsNameTheNodeAndValue() {
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["x", "nowhere"], ["y"], name: "c")], initializers: [],
            inputs: [ONNXBuilder.valueInfo("x", fixed)], outputs: [ONNXBuilder.valueInfo("y", [])])
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: bytes)) { error in
            XCTAssertEqual(error as? ONNXImportError, .missingValue(node: "c", name: "nowhere"))
        }
    }
}
