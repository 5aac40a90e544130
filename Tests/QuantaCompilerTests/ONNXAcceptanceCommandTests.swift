import Foundation
import XCTest
@testable import QuantaCompiler

/// Issue 9's acceptance, through the `quanta` binary: an opset-11 paddle2onnx-style model with
/// dims `[-1, 3, ?, ?]` and hard-swish written as Add/Clip/Mul/Div
/// (Fixtures/onnx_patterns/paddle_mbv3_block.onnx) quantizes and evaluates as it is, with the
/// dynamic dims taken from the calibration data.
final class ONNXAcceptanceCommandTests: XCTestCase {
    private var scratch = ""
    private let model = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/onnx_patterns/paddle_mbv3_block.onnx").path

    override func setUpWithError() throws {
        let exe = CommandLineTests.executable.path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: exe), "quanta not built at \(exe)")
        scratch = NSTemporaryDirectory() + "/quanta-onnx-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private func quanta(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(CommandLineTests.executable, args)
    }

    private func samples(_ shape: [Int], seed: UInt64) throws -> String {
        var random = ImportTestRandom(seed: seed)
        let path = scratch + "/data-\(shape.map(String.init).joined(separator: "x")).npy"
        try NumPy.write(NumPyArray(shape: shape, float32: random.floats(shape.reduce(1, *))), to: path)
        return path
    }

    func testPaddleStyleDynamicModelQuantizesAndEvaluatesWithoutManualSteps() throws {
        let calibration = try samples([6, 3, 12, 16], seed: 1)
        let output = scratch + "/block.qmodel"
        let q = try quanta(["quantize", model, "--calibration", calibration, "-o", output, "--json", "--quiet"])
        XCTAssertEqual(q.status, 0, q.stderr)
        let summary = try JSONDecoder().decode(QuantizeSummary.self, from: Data(q.stdout.utf8))
        XCTAssertEqual(summary.opsByKind["lookup table"], 3, "two hard-swish and one hard-sigmoid tables: \(summary.opsByKind)")
        XCTAssertNil(summary.opsByKind["add"], "\(summary.opsByKind)")
        XCTAssertEqual(summary.opsByKind["mul"], 1, "only the squeeze-excite gate: \(summary.opsByKind)")
        XCTAssertGreaterThan(summary.agreement.cosine, 0.99)

        let e = try quanta(["eval", model, output, "--data", try samples([4, 3, 12, 16], seed: 2), "--json", "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
    }

    func testRunOfTheDynamicOnnxModelTakesItsDimsFromTheInputData() throws {
        let input = try samples([2, 3, 12, 16], seed: 4)
        let output = scratch + "/y.npy"
        let r = try quanta(["run", model, "--input", input, "--output", output])
        XCTAssertEqual(r.status, 0, r.stderr)
        let y = try NumPy.read(output)
        XCTAssertEqual(y.shape.first, 2)
        // The same as with the shape given explicitly.
        let explicit = scratch + "/y2.npy"
        let r2 = try quanta(["run", model, "--input", input, "--output", explicit, "--input-shape", "x=1x3x12x16"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertEqual(try NumPy.read(explicit), y)
    }

    func testDataThatDoesNotFitTheDeclaredChannelsNamesTheDynamicDimensionAndNode() throws {
        let calibration = try samples([2, 4, 12, 16], seed: 3)
        let q = try quanta(["quantize", model, "--calibration", calibration, "-o", scratch + "/x.qmodel", "--quiet"])
        XCTAssertEqual(q.status, 1)
        XCTAssertTrue(q.stderr.contains("input 'x': dimension 2 is dynamic") && q.stderr.contains("node 'Conv_"), q.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/x.qmodel"))
    }
}
