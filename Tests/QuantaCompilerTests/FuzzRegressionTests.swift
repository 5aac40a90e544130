import Foundation
import XCTest
@testable import QuantaCompiler
import QuantaRuntime

/// Inputs that crashed a fuzz target once (Tools/fuzz), committed under
/// Fixtures/fuzz/ with the first 8 hex digits of libFuzzer's name. Each must now fail
/// with the exact error, not trap.
final class FuzzRegressionTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/fuzz/\(name)").path
    }

    /// Reshape → Transpose → Reshape with a shape initializer whose int64 values are huge:
    /// the element-count product overflowed `Int` (a trap) before `ONNXLimits`. The file
    /// also defines initializer 's1' twice, which the graph rules (issue 19) now refuse
    /// first; `testHugeReshapeTargetIsAShapeMismatch` keeps the overflow case itself.
    func testReshapeToHugeDimsIsRefusedNotAnOverflowTrap() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("onnx-crash-26dfceaf.onnx"))) { error in
            let sourced = error as? SourcedError
            XCTAssertEqual(sourced?.source, fixture("onnx-crash-26dfceaf.onnx"))
            XCTAssertEqual(sourced?.underlying as? ONNXImportError, .invalidGraph(detail: "initializer 's1' is defined twice"))
        }
    }

    /// A SPLIT with no outputs (`Tools/fuzz tflite`): the split size divided by zero.
    func testTFLiteSplitWithoutOutputsIsRefused() throws {
        let bytes = try FileIO.read(fixture("tflite-crash-bb064baf.tflite"))
        XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: bytes)) { error in
            guard case .invalidModel(let op, let detail)? = error as? TFLiteImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(op.contains("SPLIT"), op)
            XCTAssertEqual(detail, "0 outputs")
        }
    }

    /// A CONCATENATION with no outputs (`Tools/fuzz tflite`, from the ops_shape seed): the
    /// shared data-movement code read output 0 before the output count was checked.
    func testTFLiteConcatenationWithoutOutputsIsRefused() throws {
        let bytes = try FileIO.read(fixture("tflite-crash-62edf831.tflite"))
        XCTAssertThrowsError(try TFLiteImporter.importModel(bytes: bytes)) { error in
            guard case .unsupportedForm(let op, let detail)? = error as? TFLiteImportError else { return XCTFail("\(error)") }
            XCTAssertTrue(op.contains("CONCATENATION"), op)
            XCTAssertEqual(detail, "0 outputs")
        }
    }

    func testHugeReshapeTargetIsAShapeMismatch() {
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Reshape", ["X", "S"], ["Y"], name: "a")],
            initializers: [ONNXBuilder.int64Tensor("S", [8315178135798768998, 4, 4])],
            inputs: [ONNXBuilder.valueInfo("X", [.value(1), .value(4), .value(3), .value(3)])],
            outputs: [ONNXBuilder.valueInfo("Y", [.value(1)])])
        XCTAssertThrowsError(try ONNXImporter.importModel(bytes: bytes)) { error in
            guard case .shapeMismatch(let node, let detail)? = error as? ONNXImportError else {
                return XCTFail("expected shapeMismatch, got \(error)")
            }
            XCTAssertEqual(node, "a")
            XCTAssertTrue(detail.hasPrefix("cannot reshape [1, 4, 3, 3] to [8315178135798768998"), detail)
        }
    }

    /// Found by Tools/fuzz-onnx-structure: Range(0, -1e30, 1) folded its element count
    /// with `Int(span)` of a span below `Int.min` (a trap). It is an empty range; the
    /// model (whose output does not use it) imports.
    func testRangeWithAHugeNegativeSpanIsEmptyNotATrap() throws {
        let graph = try ONNXImporter.importModel(path: fixture("structure-range-m1-131-99.onnx"))
        XCTAssertEqual(graph.nodes.count, 1)
    }

    /// Found by Tools/fuzz-onnx-structure: an integer Add of a Where and a Range whose
    /// results have other element counts than their dims' broadcast indexed past the
    /// shorter one (a trap). The integer path now takes only whole or single-value operands.
    func testIntegerElementwiseOfMismatchedConstantsDoesNotIndexPastThem() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("structure-elementwise-m1-294-97.onnx"))) { error in
            XCTAssertEqual((error as? SourcedError)?.underlying as? ONNXImportError,
                           .unsupportedOutput(name: "y", detail: "not an activation tensor (constant or partial pattern)"))
        }
    }

    /// Found by Tools/fuzz-onnx-structure (a timeout): an Expand folded to millions of
    /// values used as a Reshape target; the error message printed every one of them. A
    /// target of more than `ONNXLimits.maxRank` dims is refused at once, its error short.
    func testReshapeTargetOfMillionsOfDimsIsRefusedQuickly() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("structure-reshape-target-m8-170-92.onnx"))) { error in
            guard case .invalidAttribute(_, "Reshape", let detail)? = (error as? SourcedError)?.underlying as? ONNXImportError else {
                return XCTFail("expected invalidAttribute of the Reshape, got \(error)")
            }
            XCTAssertTrue(detail.hasPrefix("Reshape target [") && detail.hasSuffix("values)]: more than 64 dims"), detail)
            XCTAssertLessThan(detail.count, 200)
        }
    }

    /// Found by Tools/fuzz-onnx-structure (out of memory): a Gemm on the flatten of a
    /// declared [1, 2^29, 1, 1]-sized input built its column map (4 GB) before comparing
    /// the input's features with the weights' K. K is compared first now.
    func testGemmOnAHugeFlattenComparesFeaturesBeforeAllocating() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("structure-gemm-flatten-m9-1189-142.onnx"))) { error in
            XCTAssertEqual((error as? SourcedError)?.underlying as? ONNXImportError,
                           .shapeMismatch(node: "g", detail: "input has 536870912 features, weights expect 8"))
        }
    }

    /// Found by Tools/fuzz-onnx-structure (a timeout, 1.6 GB): Add of a 400 M-element input
    /// and a constant the importer expanded to the input's whole shape before any limit.
    /// The expansion is held to `ONNXLimits.maxFoldedElements` first.
    func testConstantBroadcastToAHugeActivationIsLimitedBeforeAllocating() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("structure-broadcast-constant-m14-234-158.onnx"))) { error in
            guard case .limitExceeded(_, let what, let value, let limit)? = (error as? SourcedError)?.underlying as? ONNXImportError else {
                return XCTFail("expected limitExceeded, got \(error)")
            }
            XCTAssertEqual(what, "the element count of the constant broadcast to [1, 3, 16777216, 8]")
            XCTAssertEqual(value, 3 * 16777216 * 8)
            XCTAssertEqual(limit, ONNXLimits.maxFoldedElements)
        }
    }

    /// The committed `.qmodel` seeds (Tools/fuzz-corpus/qmodel) load with the current
    /// reader: after a format change they must be regenerated
    /// (`Tools/fuzz-corpus/make_seeds.py`), or the fuzzer only exercises the version check.
    func testEveryQModelFuzzSeedLoadsWithTheCurrentFormat() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Tools/fuzz-corpus/qmodel")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".qmodel") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10)
        for name in names {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            data.withUnsafeBytes { raw in
                do { _ = try Model(bytes: raw) } catch { XCTFail("\(name): \(error)") }
            }
        }
    }
}
