import Foundation
import QuantaKernels
import QuantaRuntime
import XCTest

@testable import QuantaCompiler

/// `quanta import` of an int8 `.tflite` (Fixtures/tflite, made by
/// Tools/fixtures/make_tflite_fixtures.py: MobileNetV3-small 0.5/32 through onnx2tf and the
/// TFLite converter; its expected bytes from LiteRT's reference kernels, BUILTIN_REF).
final class TFLiteImportTests: XCTestCase {
    private let stem = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tflite/mobilenet_v3_small_0.5_32_int8").path

    private func npy(_ suffix: String) throws -> (shape: [Int], values: [Int8]) {
        let array = try NumPy.decode(try FileIO.read(stem + suffix))
        guard case .int8(let values) = array.elements else { throw XCTSkip("fixture \(suffix) is not int8") }
        return (array.shape, values)
    }

    private func modelBytes() throws -> [UInt8] { try FileIO.read(stem + ".tflite") }

    /// Runs the imported model on the fixture's inputs; output k of every sample.
    private func run(_ model: QuantizedModel, samples: Int) throws -> [[Int8]] {
        let session = try QuantizedSession(bytes: try ModelWriter().write(model), source: "tflite")
        let (shape, inputs) = try npy("_input.npy")
        let per = shape.dropFirst().reduce(1, *)
        var outputs = [[Int8]](repeating: [], count: model.outputs.count)
        for s in 0..<samples {
            session.setInput(0, int8: Array(inputs[(s * per)..<((s + 1) * per)]))
            session.invoke()
            for k in model.outputs.indices { outputs[k] += session.outputInt8(k) }
        }
        return outputs
    }

    /// Every layer up to the first fully connected one gives LiteRT's reference bytes: 47
    /// convolutions and depthwise convolutions, HARD_SWISH and RELU_0_TO_1 (tables),
    /// squeeze-excite MUL, ADD, MEAN (written as a depthwise of ones) and the folded PADs.
    func testLayersBeforeTheFullyConnectedMatchLiteRTReferenceBytes() throws {
        let name = try String(contentsOfFile: stem + "_fc_input.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let model = try TFLiteImporter.importModel(bytes: try modelBytes(), extraOutputs: [name])
        let expected = try npy("_fc_input.npy").values
        let samples = try npy("_input.npy").shape[0]
        let got = try run(model, samples: samples)[1]
        XCTAssertEqual(got.count, expected.count)
        XCTAssertEqual(got, expected, "\(zip(got, expected).filter { $0 != $1 }.count) bytes differ from LiteRT's reference")
    }

    /// The model's output, through both fully connected layers, which LiteRT's reference
    /// kernel requantizes in double (`round(acc · sIn·sW/sOut)`, `KernelVariant.doubleScaled`):
    /// every byte identical.
    func testOutputMatchesLiteRTReferenceBytes() throws {
        let model = try TFLiteImporter.importModel(bytes: try modelBytes())
        XCTAssertEqual(model.ops.filter { if case .fullyConnected = $0.kind { return true } else { return false } }.count, 2)
        let expected = try npy("_output.npy").values
        let got = try run(model, samples: try npy("_input.npy").shape[0])[0]
        XCTAssertEqual(got, expected, "\(zip(got, expected).filter { $0 != $1 }.count) of \(expected.count) bytes differ")
    }

    /// `quanta run` with an int8 `.npy`: the bytes go in as they are; with `--int8` the
    /// output bytes are LiteRT's.
    func testRunTakesInt8InputAsIs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tflite-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let qmodel = dir + "/m.qmodel", output = dir + "/y.npy"
        try FileIO.writeAtomically(try ModelWriter().write(try TFLiteImporter.importModel(bytes: try modelBytes())), to: qmodel)
        let (samples, _, _) = try ModelRunner.runQuantized(modelPath: qmodel, inputPath: stem + "_input.npy", outputPath: output, rawInt8: true)
        XCTAssertEqual(samples, 8)
        let got = try NumPy.decode(try FileIO.read(output))
        guard case .int8(let bytes) = got.elements else { return XCTFail("not int8") }
        XCTAssertEqual(bytes, try npy("_output.npy").values)
    }

    /// A float `.tflite` is the float graph: Quanta's float reference gives LiteRT's float
    /// outputs (Fixtures: ops_se_float32, outputs from LiteRT's reference kernels), and
    /// `quanta quantize` calibrates and quantizes it like an ONNX model.
    func testFloatTFLiteRunsAndQuantizes() throws {
        for name in ["ops_se_float32", "ops_resize_float32", "ops_shape_float32"] {
            let float = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tflite/\(name)").path
            let graph = try QuantizePipeline.importGraph(onnxPath: float + ".tflite")
            let samples = try QuantizePipeline.loadSamples(path: float + "_calibration.npy", for: graph)
            let expected = try NumPy.decode(try FileIO.read(float + "_output.npy"))
            guard case .float32(let reference) = expected.elements else { return XCTFail("not float32") }
            let executor = FloatExecutor(graph: graph)
            var got: [Float] = []
            for sample in samples.samples { got += try executor.run(inputs: [sample])[graph.outputs[0]] ?? [] }
            XCTAssertEqual(got.count, reference.count, name)
            let scale = reference.map(abs).max() ?? 1
            XCTAssertLessThanOrEqual(zip(got, reference).map { abs($0 - $1) }.max() ?? 1, 1e-5 * scale, name)

            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tflite-float-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var options = QuantizationOptions()
            options.calibrationWorkers = 1
            let result = try QuantizePipeline.run(
                onnxPath: float + ".tflite", calibrationPath: float + "_calibration.npy", outputPath: dir + "/m.qmodel", options: options)
            XCTAssertGreaterThan(result.summary.agreement.sqnr, 25, name)
        }
    }

    /// ops_shape: TRANSPOSE of ranks 3, 4 and 5 (H↔W, a channel-pair swap, a sequence
    /// transpose), SPLIT_V and CONCATENATION along W and along H, STRIDED_SLICE of H and W
    /// with steps 2 and −1 (a YOLO "Focus" stem and a flip), SOFTMAX over every pixel's channels and over the classifier's outputs (LiteRT's
    /// float-table arithmetic): every output byte of 16 samples as LiteRT's reference kernels.
    func testTransposesStridedSlicesAndSoftmaxMatchLiteRTReferenceBytes() throws {
        let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tflite").path
        let model = try TFLiteImporter.importModel(bytes: try FileIO.read(folder + "/ops_shape.tflite"))
        let copies = model.ops.filter { if case .stridedCopy = $0.kind { return true } else { return false } }
        let softmaxes = model.ops.filter { if case .softmaxFloatTable = $0.kind { return true } else { return false } }
        XCTAssertEqual(copies.count, 10)  // 3 transposes, the split along W, 4 focus slices, the flip
        // The concat along H: the channel concat of the inputs viewed as rows, between reshapes.
        XCTAssertEqual(model.ops.filter { if case .concat = $0.kind { return true } else { return false } }.count, 3)
        XCTAssertEqual(softmaxes.count, 2)
        let inputs = try NumPy.decode(try FileIO.read(folder + "/ops_shape_input.npy"))
        let outputs = try NumPy.decode(try FileIO.read(folder + "/ops_shape_output.npy"))
        guard case .int8(let x) = inputs.elements, case .int8(let expected) = outputs.elements else { return XCTFail("int8 fixtures") }
        let session = try QuantizedSession(bytes: try ModelWriter().write(model), source: "ops_shape")
        let per = inputs.shape.dropFirst().reduce(1, *)
        var got: [Int8] = []
        for s in 0..<inputs.shape[0] {
            session.setInput(0, int8: Array(x[(s * per)..<((s + 1) * per)]))
            session.invoke()
            got += session.outputInt8(0)
        }
        XCTAssertEqual(got, expected, "\(zip(got, expected).filter { $0 != $1 }.count) of \(expected.count) bytes differ")
        XCTAssertGreaterThan(Set(got).count, 5)  // not a saturated output
    }

    /// The int8 fixtures plan their arenas near the bound of whole tensors with the fast
    /// kernels: no kernel scratch at the peak (ops_block's grouped 3×3 convolution takes the
    /// stack-tiled im2col there instead of an arena buffer: 9 864 → 3 456 B, the bound), at
    /// most 1.2× the bound where placement fragments (ops_split: 2 016 of 1 728 B).
    func testFixturesPlanAtTheWholeTensorBound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tflite-plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tflite").path
        let models = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".tflite") && !$0.contains("float32") }
        XCTAssertGreaterThanOrEqual(models.count, 8)
        for name in models {
            let summary = try TFLiteImportPipeline.run(tflitePath: folder + "/" + name, outputPath: dir + "/m.qmodel").summary
            XCTAssertLessThanOrEqual(summary.arenaBytes, summary.naiveLowerBound * 6 / 5, name)
            if name.hasPrefix("ops_block") || name.hasPrefix("mobilenet") {
                XCTAssertEqual(summary.arenaBytes, summary.naiveLowerBound, name)
            }
        }
    }

    /// An int8 `.tflite` is not calibrated again: the float import names `quanta import`.
    func testQuantizedTFLiteIsNotAFloatModel() throws {
        XCTAssertThrowsError(try TFLiteImporter.importFloatGraph(bytes: try modelBytes())) { error in
            guard case .unsupportedForm(_, let detail)? = error as? TFLiteImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("quanta import"), detail)
        }
    }

    /// LiteRT's rounding of the scaled accumulator: half away from zero, exactly, also at
    /// halves that a `x + 0.5` shortcut would round wrongly.
    func testRoundHalfAwayFromZeroIsCRound() {
        let cases: [(Double, Int32)] = [
            (0.5, 1), (-0.5, -1), (1.5, 2), (-1.5, -2), (2.4999999999999996, 2), (0.49999999999999994, 0),
            (-0.49999999999999994, 0), (1e300, Int32.max), (-1e300, Int32.min), (2147483647.4, Int32.max),
            (-2147483648.4, Int32.min), (123456.5, 123457), (-123456.5, -123457),
        ]
        for (x, r) in cases { XCTAssertEqual(Int8Reference.roundHalfAwayFromZero(x), r, "\(x)") }
        XCTAssertEqual(Int8Reference.roundHalfAwayFromZero(.nan), Int32.min)
    }

    /// A PAD with the zero point folds into the convolution after it: no pad op is left and
    /// the arena is far below the unfolded plan's (the padded copy no longer sits at the peak).
    func testZeroPointPadsFoldIntoConvolutions() throws {
        let model = try TFLiteImporter.importModel(bytes: try modelBytes())
        XCTAssertFalse(model.ops.contains { if case .pad = $0.kind { return true } else { return false } })
        let file = try TFLiteModel(bytes: try modelBytes())
        XCTAssertEqual(file.operators.filter { file.code($0) == TFLiteOperatorCode.pad }.count, 5)
    }

    func testNotATFLiteFileIsNamed() throws {
        var bytes = try modelBytes()
        bytes[4] = UInt8(ascii: "X")
        XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: bytes)) { error in
            XCTAssertEqual(error as? TFLiteImportError, .notTFLite(identifier: "XFL3"))
        }
        XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: [1, 2, 3])) { error in
            guard case .malformed(let e)? = error as? TFLiteImportError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.offset, 0)
        }
    }

    /// An operator outside the list is an error naming it by TFLite's name.
    func testUnsupportedOperatorIsNamed() throws {
        var bytes = try modelBytes()
        let reader = try FlatBufferReader(bytes)
        let code = try reader.root().tables(TFLiteModel.Field.Model.operatorCodes)[0]
        // Make operator code 0 GATHER (36) in both of its fields.
        let deprecated = try XCTUnwrap(try code.field(TFLiteModel.Field.OperatorCode.deprecatedBuiltinCode, width: 1))
        bytes[deprecated] = 36
        if let builtin = try code.field(TFLiteModel.Field.OperatorCode.builtinCode, width: 4) {
            bytes[builtin] = 36
            bytes[builtin + 1] = 0
            bytes[builtin + 2] = 0
            bytes[builtin + 3] = 0
        }
        XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: bytes)) { error in
            guard case .unsupportedOperator(_, let name, let supported)? = error as? TFLiteImportError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "GATHER")
            XCTAssertTrue(supported.contains("CONV_2D"))
        }
    }

    /// Truncations and byte changes in the FlatBuffer's tables (the first and last 4 KiB:
    /// root, vtables, operators, tensors, buffer table) throw or import — never trap. A
    /// model that imports is written and runs.
    func testTruncatedAndCorruptedFilesThrowOrImport() throws {
        let bytes = try modelBytes()
        var rng = TestRandom(seed: 26)
        var imported = 0, refused = 0
        for length in stride(from: 0, to: bytes.count, by: 9973) + [bytes.count - 1, bytes.count - 100] {
            if (try? TFLiteImporter.importModel(bytes: Array(bytes[..<length]))) != nil { imported += 1 } else { refused += 1 }
        }
        for _ in 0..<300 {
            var corrupted = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let region = rng.next() % 2 == 0 ? 0..<4096 : (bytes.count - 4096)..<bytes.count
                corrupted[region.lowerBound + Int(rng.next() % UInt64(region.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            guard let model = try? TFLiteImporter.importModel(bytes: corrupted) else { refused += 1; continue }
            imported += 1
            guard let written = try? ModelWriter().write(model) else { continue }
            let session = try QuantizedSession(bytes: written, source: "corrupted")
            session.invoke()
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertEqual(imported + refused, 300 + (bytes.count + 9972) / 9973 + 2)
    }
}
