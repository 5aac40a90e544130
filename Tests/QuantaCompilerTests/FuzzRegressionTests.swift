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
    /// the element-count product overflowed `Int` (a trap) before `ONNXLimits`.
    func testReshapeToHugeDimsIsAShapeMismatchNotAnOverflowTrap() {
        XCTAssertThrowsError(try ONNXImporter.importModel(path: fixture("onnx-crash-26dfceaf.onnx"))) { error in
            let sourced = error as? SourcedError
            XCTAssertEqual(sourced?.source, fixture("onnx-crash-26dfceaf.onnx"))
            guard case .shapeMismatch(let node, let detail)? = sourced?.underlying as? ONNXImportError else {
                return XCTFail("expected shapeMismatch, got \(error)")
            }
            XCTAssertEqual(node, "a")
            XCTAssertTrue(detail.hasPrefix("cannot reshape [1, 4, 3, 3] to [8315178135798768998"), detail)
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
