import XCTest
import QuantaKernels
import QuantaRuntime
import QuantaDiagnostics
@testable import QuantaCompiler

/// The host tools describe runtime errors with the same words as the board runner
/// (one source: QuantaDiagnostics; Targets/check greps the runner's output for them).
final class ModelErrorMessageTests: XCTestCase {
    func testLoadErrorsNameTheFileAndTheProblemInWords() {
        XCTAssertEqual(
            ModelLoadError(source: "m.qmodel", error: .truncated(needed: 17712, fileSize: 1000)).description,
            "m.qmodel: file truncated: needs 17712 bytes, has 1000")
        XCTAssertEqual(
            ModelErrorMessage.describe(.invalidOp(index: 3, reason: .scratchTooSmall(needed: 512, found: 0))),
            "op 3: its kernel needs 512 bytes of scratch, the plan gives 0")
        XCTAssertEqual(
            ModelErrorMessage.describe(.invalidTensor(index: 2, reason: .badShape(n: 1, h: 0, w: 4, c: 8))),
            "tensor 2: bad shape 1x0x4x8")
        XCTAssertEqual(
            ModelErrorMessage.describe(.badMagic(found: 0x1234_5678)),
            "not a .qmodel file (magic 0x12345678, expected \"QMDL\")")
    }

    func testAQuantizedSessionOnATruncatedFileThrowsTheDescribedError() throws {
        XCTAssertThrowsError(try QuantizedSession(bytes: [1, 2, 3], source: "short.qmodel")) { error in
            XCTAssertTrue("\(error)".hasPrefix("short.qmodel: file truncated: needs"), "\(error)")
        }
    }
}
