import Foundation
import XCTest
@testable import QuantaCompiler

/// Accuracy regression tests: each model is quantized with the default method on its
/// calibration samples and evaluated (int8 against float, outputs and every layer) on its
/// evaluation samples; the figures must not fall below the committed baseline by more
/// than the default tolerances (`BaselineTolerances`). A kernel or calibration change that
/// costs accuracy fails here.
///
/// Regenerate baselines deliberately with `QUANTA_WRITE_BASELINES=1 swift test --filter
/// AccuracyRegressionTests` and commit them with the change that justifies them.
final class AccuracyRegressionTests: XCTestCase {
    private func check(onnx: String, calibration: String, evaluation: String, labels: String? = nil, baseline: String,
                       options: QuantizationOptions = QuantizationOptions()) throws -> EvaluationResult {
        let qmodel = NSTemporaryDirectory() + "/quanta-accuracy-\(getpid())-\(UUID().uuidString).qmodel"
        defer { unlink(qmodel) }
        _ = try QuantizePipeline.run(onnxPath: onnx, calibrationPath: calibration, outputPath: qmodel, options: options)
        var result = try Evaluator.evaluate(onnxPath: onnx, modelPath: qmodel, dataPath: evaluation, labelsPath: labels)
        result.model = URL(fileURLWithPath: onnx).lastPathComponent
        result.histogram = nil
        if ProcessInfo.processInfo.environment["QUANTA_WRITE_BASELINES"] == "1" {
            try FileIO.writeAtomically(try result.json() + "\n", to: baseline)
            return result
        }
        let expected = try EvaluationResult.decode(json: try FileIO.read(baseline))
        let regressions = try result.regressions(against: expected)
        XCTAssertEqual(regressions, [], "accuracy regressed against \(baseline):\n" + regressions.map(\.description).joined(separator: "\n"))
        return result
    }

    func testShippedDigitsModelKeepsItsAccuracy() throws {
        let m = repositoryRoot + "/Models/digits_mobilenet"
        let result = try check(
            onnx: m + ".onnx", calibration: repositoryRoot + "/Models/digits_calibration.npy",
            evaluation: repositoryRoot + "/Models/digits_eval.npy", labels: repositoryRoot + "/Models/digits_eval_labels.npy",
            baseline: repositoryRoot + "/Tests/AccuracyModels/digits_mobilenet.baseline.json")
        // Absolute floor as well: the shipped classifier must stay a good classifier.
        let c = try XCTUnwrap(result.classification)
        XCTAssertGreaterThanOrEqual(Double(c.int8Correct ?? 0) / Double(c.samples), 0.95)
    }

    func testMobileNetV1StyleKeepsItsAccuracy() throws { try family("mobilenet_v1_0.25_32") }
    func testMobileNetV2StyleKeepsItsAccuracy() throws { try family("mobilenet_v2_0.35_32") }
    func testMobileNetV3SmallStyleKeepsItsAccuracy() throws { try family("mobilenet_v3_small_0.5_32") }
    func testShuffleNetV2StyleKeepsItsAccuracy() throws { try family("shufflenet_v2_0.5_32") }

    private func family(_ stem: String) throws {
        let m = repositoryRoot + "/Tests/AccuracyModels/" + stem
        _ = try check(onnx: m + ".onnx", calibration: m + "_calibration.npy", evaluation: m + "_eval.npy", baseline: m + ".baseline.json")
    }

    /// The baselines catch a real regression: minmax calibration on a tensor with an outlier
    /// costs the output SQNR that the committed (percentile-free default) baseline records.
    func testBaselineCatchesABrokenCalibration() throws {
        let m = repositoryRoot + "/Models/digits_mobilenet"
        let qmodel = NSTemporaryDirectory() + "/quanta-broken-\(getpid()).qmodel"
        let calibration = NSTemporaryDirectory() + "/quanta-outlier-\(getpid()).npy"
        defer { unlink(qmodel); unlink(calibration) }
        // The calibration set with one sample scaled to a huge outlier: minmax then stretches
        // every downstream range and int8 resolution collapses.
        var samples = try NumPy.read(repositoryRoot + "/Models/digits_calibration.npy")
        guard case .float32(var values) = samples.elements else { return XCTFail("calibration is float32") }
        let perSample = values.count / samples.shape[0]
        for i in 0..<perSample { values[i] *= 1000 }
        samples.elements = .float32(values)
        try NumPy.write(samples, to: calibration)
        _ = try QuantizePipeline.run(onnxPath: m + ".onnx", calibrationPath: calibration, outputPath: qmodel, options: QuantizationOptions(method: .minmax))
        let result = try Evaluator.evaluate(onnxPath: m + ".onnx", modelPath: qmodel, dataPath: repositoryRoot + "/Models/digits_eval.npy",
                                            labelsPath: repositoryRoot + "/Models/digits_eval_labels.npy")
        let expected = try EvaluationResult.decode(json: try FileIO.read(repositoryRoot + "/Tests/AccuracyModels/digits_mobilenet.baseline.json"))
        let regressions = try result.regressions(against: expected)
        XCTAssertTrue(regressions.contains { $0.figure == "output 0 SQNR dB" }, "expected an output SQNR regression, got \(regressions)")
    }
}
