import Foundation
import XCTest
@testable import QuantaCompiler

/// The hostile ONNX files of issue 19 (Fixtures/onnx_robustness, written by
/// Tools/fixtures/make_onnx_robustness.py): small valid protobufs that trapped in constant
/// folding or the float reference, allocated gigabytes, hung calibration, or were accepted
/// although ONNX Runtime refuses them. Each must now fail at import, before any sample is
/// read, with this exact one-line error naming the node (or the graph rule) and the problem.
/// (A negative input dim is dynamic, as ONNX Runtime reads it: without data for its shape
/// it is the dynamic-dimension error; with data, the model quantizes as ONNX Runtime runs it.)
final class ONNXRobustnessTests: XCTestCase {
    static let expected: [String: String] = [
        "averagepool_huge_window": "node 'pool': the pooling window 4096×4096 is 16777216, above the limit of 4194304 (docs/ROBUSTNESS.md)",
        "averagepool_pads_at_least_kernel": "node 'pool' (AveragePool): invalid pads [2, 2, 2, 2] for kernel_shape [2, 2]: each pad must be smaller than the kernel",
        "concat_mismatched_dims": "node 'cat': Concat of [[2, 3], [4, 1]] on axis 0: the other dims differ",
        "constant_of_shape_huge": "node 'cos': the element count of ConstantOfShape [16777216, 128] is 2147483648, above the limit of 16777216 (docs/ROBUSTNESS.md)",
        "conv_weights_zero_kernel": "node 'conv' (Conv): invalid weights of shape [4, 3, 0, 0]: every dimension must be at least 1",
        "conv_work_over_limit": "node 'conv': the float work of one calibration pass (multiply-accumulates per sample, whole graph; this node the most) is 322122547200, above the limit of 137438953472 (docs/ROBUSTNESS.md)",
        "convtranspose_output_padding_at_least_stride": "node 'deconv' (ConvTranspose): invalid output_padding [2, 2] for strides [2, 2] and dilations [1, 1]: each must be smaller than its stride or dilation",
        "convtranspose_output_shape_unreachable": "node 'deconv' (ConvTranspose): invalid output_shape [40, 40]: the input [1, 3, 8, 8] with these kernel, strides and output_padding gives at most 17×17",
        // Int64.min / -1 wraps (as ONNX Runtime's integer division does on x86 and ARM)
        // instead of trapping; the Reshape then names the impossible target.
        "div_int64_min_by_minus1": "node 'reshape': cannot reshape [1, 3, 8, 8] to [-9223372036854775808]",
        "duplicate_initializer": "invalid ONNX graph: initializer 'W' is defined twice",
        "duplicate_node_output": "invalid ONNX graph: value 'T' is defined twice: by node 'conv1' and by node 'relu'",
        "expand_huge": "node 'expand': broadcast shape [2147483648] too large",
        "flatten_axis_minus5": "node 'flat' (Flatten): invalid axis -5 for rank 4",
        "input_dim_negative": "input 'X': dimension 1 is dynamic ('-3') and node 'relu' needs it; give the shape with --input-shape X=1x3xHxW or calibration data of that shape",
        "input_dim_zero": "invalid ONNX graph: input 'X' declares dimension 1 as 0 (a tensor without elements)",
        "kernel_shape_zero": "node 'pool' (MaxPool): unsupported kernel_shape [0, 0] (2-D only)",
        "maxpool_ceil_window_in_padding": "node 'pool' (MaxPool): invalid pads [0, 0, 1, 1] for kernel_shape [1, 1]: each pad must be smaller than the kernel",
        "maxpool_pads_at_least_kernel": "node 'pool' (MaxPool): invalid pads [2, 2, 2, 2] for kernel_shape [2, 2]: each pad must be smaller than the kernel",
        "opset_99": "invalid ONNX graph: opset 99 of the default domain is not supported (1...28)",
        "pad_axes_repeated": "node 'pad' (Pad): invalid Pad axes [2, 2]: an axis is repeated",
        "pad_axes_too_few_pads": "node 'pad' (Pad): invalid pads [1, 1] for axes [2, 3]: needs 4 values (begin and end per axis)",
        "range_huge": "node 'range': the element count of Range(0.0, 2147483648.0, 1.0) is 2147483648, above the limit of 16777216 (docs/ROBUSTNESS.md)",
        "slice_axes_repeated": "node 'slice' (Slice): invalid Slice axes [2, 2]: an axis is repeated",
        "transpose_perm_out_of_range": "node 'tr' (Transpose): invalid perm [0, 7, 1, 2] for rank 4: not a permutation of 0..<4",
        "transpose_perm_repeated": "node 'tr' (Transpose): invalid perm [0, 0, 1, 2] for rank 4: not a permutation of 0..<4",
        "use_before_definition": "node 'relu2': input 'T' is not defined",
    ]

    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/onnx_robustness") }

    func testEveryFixtureHasItsExpectedError() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
        XCTAssertEqual(names, Self.expected.keys.sorted(), "fixtures and expected errors")
        for name in names {
            let path = Self.directory.appendingPathComponent(name + ".onnx").path
            XCTAssertThrowsError(try ONNXImporter.importModel(path: path), name) { error in
                let sourced = error as? SourcedError
                XCTAssertEqual(sourced?.source, path, name)
                XCTAssertEqual(sourced.map { "\($0.underlying)" }, Self.expected[name], name)
            }
        }
    }

    /// The folding limit holds below the general tensor limit: a ConstantOfShape of
    /// exactly `maxFoldedElements` elements folds, one more row does not.
    func testFoldedConstantsStopAtTheirLimitNotAtTheTensorLimit() throws {
        XCTAssertLessThan(ONNXLimits.maxFoldedElements, ONNXLimits.maxElementCount)
        func model(rows: Int) -> [UInt8] {
            ONNXBuilder.model(
                nodes: [ONNXBuilder.node("ConstantOfShape", ["S"], ["Z"], name: "cos"), ONNXBuilder.node("Relu", ["X"], ["Y"], name: "relu")],
                initializers: [ONNXBuilder.int64Tensor("S", [Int64(rows), 1024])],
                inputs: [ONNXBuilder.valueInfo("X", [.value(1), .value(1), .value(1), .value(1)])],
                outputs: [ONNXBuilder.valueInfo("Y", [.value(1), .value(1), .value(1), .value(1)])])
        }
        let fits = ONNXLimits.maxFoldedElements / 1024
        XCTAssertNoThrow(try ONNXImporter.importModel(bytes: model(rows: fits)))
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: model(rows: fits + 1))) { error in
            XCTAssertEqual(error as? ONNXImportError, .limitExceeded(
                node: "cos", what: "the element count of ConstantOfShape [\(fits + 1), 1024]",
                value: (fits + 1) * 1024, limit: ONNXLimits.maxFoldedElements))
        }
    }

    /// A convolution summing more products than an int32 accumulator holds is refused by
    /// `quanta quantize` before any sample is read (the calibration file here does not even
    /// exist), not by the runtime's check of the written model after calibration.
    func testAccumulatorTermsAreCheckedBeforeCalibration() throws {
        let terms = QuantizePipeline.maxAccumulatorTerms + 1
        XCTAssertEqual(QuantizePipeline.maxAccumulatorTerms, 65793)
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["X", "W"], ["Y"], name: "wide")],
            initializers: [ONNXBuilder.tensor("W", dims: [1, Int64(terms), 1, 1], floats: [Float](repeating: 0.5, count: terms))],
            inputs: [ONNXBuilder.valueInfo("X", [.value(1), .value(Int64(terms)), .value(1), .value(1)])],
            outputs: [ONNXBuilder.valueInfo("Y", [.value(1), .value(1), .value(1), .value(1)])])
        let path = NSTemporaryDirectory() + "/quanta-wide-\(getpid()).onnx"
        try FileIO.writeAtomically(bytes, to: path)
        defer { unlink(path) }
        XCTAssertThrowsError(try QuantizePipeline.run(
            onnxPath: path, calibrationPath: "/nonexistent.npy", outputPath: path + ".qmodel", options: QuantizationOptions())) { error in
            XCTAssertEqual("\(error)", "\(path): node 'wide': the products one int8 accumulator sums (kernel taps × input channels) is \(terms), above the limit of 65793 (docs/ROBUSTNESS.md)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".qmodel"))
    }
}
