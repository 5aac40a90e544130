import Foundation
import XCTest
@testable import QuantaCompiler

/// The fixtures are written by numpy: `python3 Tools/fixtures/make_npy_fixtures.py`.
private let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tools/fixtures/npy").path

private func fixture(_ name: String) -> String { fixtures + "/" + name }

private func assertThrows(_ expected: NumPyError, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? NumPyError, expected, file: file, line: line)
    }
}

final class NumPyTests: XCTestCase {
    func testReadsFloat32WithShapeInCOrder() throws {
        let a = try NumPy.read(fixture("float32_2x3.npy"))
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.elements, .float32([-1, -0.5, 0, 0.5, 1, 1.5]))
    }

    func testReadsVersion2And3HeadersLikeVersion1() throws {
        let v1 = try NumPy.read(fixture("float32_2x3.npy"))
        XCTAssertEqual(try NumPy.read(fixture("float32_2x3_v2.npy")), v1)
        XCTAssertEqual(try NumPy.read(fixture("float32_2x3_v3.npy")), v1)
    }

    func testReadsFloat64ExactlyAndConvertsToNearestFloat() throws {
        let a = try NumPy.read(fixture("float64_4.npy"))
        XCTAssertEqual(a.shape, [4])
        XCTAssertEqual(a.elements, .float64([1.0 / 3.0, -2.5, 1e-40, 3.0e38]))
        XCTAssertEqual(a.floats, [Float(1.0 / 3.0), -2.5, Float(1e-40), 3.0e38])
    }

    func testReadsIntegerTypesIncludingExtremes() throws {
        XCTAssertEqual(try NumPy.read(fixture("int8_5.npy")).elements, .int8([-128, -1, 0, 1, 127]))
        XCTAssertEqual(try NumPy.read(fixture("uint8_4.npy")).elements, .uint8([0, 1, 128, 255]))
        let i4 = try NumPy.read(fixture("int32_2x2.npy"))
        XCTAssertEqual(i4.shape, [2, 2])
        XCTAssertEqual(i4.elements, .int32([Int32.min, -1, 0, Int32.max]))
        XCTAssertEqual(try NumPy.read(fixture("int64_3.npy")).elements, .int64([-(1 << 40), 0, 1 << 40]))
        XCTAssertEqual(try NumPy.read(fixture("uint8_4.npy")).floats, [0, 1, 128, 255])
    }

    func testReadsScalarAndEmptyArrays() throws {
        let s = try NumPy.read(fixture("scalar.npy"))
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.elements, .float32([2.5]))
        let e = try NumPy.read(fixture("empty_0x3.npy"))
        XCTAssertEqual(e.shape, [0, 3])
        XCTAssertEqual(e.count, 0)
    }

    func testWrittenFloat32IsByteIdenticalToNumPy() throws {
        let array = NumPyArray(shape: [2, 3], float32: [-1, -0.5, 0, 0.5, 1, 1.5])
        let bytes = try NumPy.encode(array)
        XCTAssertEqual(bytes, try FileIO.read(fixture("written_float32_2x3.npy")))
        XCTAssertEqual(bytes.count % 64, (4 * 6) % 64, "data starts at a multiple of 64")
    }

    func testWrittenInt8IsByteIdenticalToNumPy() throws {
        let array = NumPyArray(shape: [2, 2, 2], int8: [-127, -2, 0, 3, 5, 7, 100, 127])
        XCTAssertEqual(try NumPy.encode(array), try FileIO.read(fixture("written_int8_2x2x2.npy")))
    }

    func testWriteThenReadRoundTripsThroughAFile() throws {
        let path = NSTemporaryDirectory() + "/quanta-numpy-\(getpid()).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let array = NumPyArray(shape: [3], float32: [Float.pi, -0.0, .greatestFiniteMagnitude])
        try NumPy.write(array, to: path)
        let back = try NumPy.read(path)
        XCTAssertEqual(back.shape, [3])
        XCTAssertEqual(back.floats.map(\.bitPattern), array.floats.map(\.bitPattern))
    }

    func testWritingRejectsCountNotMatchingShape() {
        let array = NumPyArray(shape: [2, 3], float32: [1, 2, 3])
        assertThrows(.shapeMismatch(source: "<memory>", expected: [2, 3], actual: [3])) { _ = try NumPy.encode(array) }
    }

    func testWritingRejectsTypesOtherThanFloat32AndInt8() {
        let array = NumPyArray(shape: [1], elements: .float64([1]))
        XCTAssertThrowsError(try NumPy.encode(array)) { error in
            guard case .unsupportedDType = error as? NumPyError else { return XCTFail("\(error)") }
        }
    }

    func testBigEndianIsAClearError() {
        let path = fixture("bigendian.npy")
        assertThrows(.bigEndian(source: path, descr: ">f4")) { _ = try NumPy.read(path) }
    }

    func testFortranOrderIsAClearError() {
        let path = fixture("fortran_2x3.npy")
        assertThrows(.fortranOrder(source: path)) { _ = try NumPy.read(path) }
    }

    func testFloat16IsAnUnsupportedDType() {
        let path = fixture("float16.npy")
        assertThrows(.unsupportedDType(source: path, descr: "<f2")) { _ = try NumPy.read(path) }
    }

    func testTruncatedDataReportsExpectedAndActualSize() {
        let path = fixture("truncated.npy")
        assertThrows(.truncated(source: path, expectedBytes: 152, actualBytes: 149)) { _ = try NumPy.read(path) }
    }

    func testBadMagicIsAClearError() {
        let path = fixture("badmagic.npy")
        assertThrows(.badMagic(source: path)) { _ = try NumPy.read(path) }
        assertThrows(.badMagic(source: "<memory>")) { _ = try NumPy.decode([0x93, 0x4E]) }
    }

    func testTrailingBytesAreAnError() throws {
        let bytes = try FileIO.read(fixture("float32_2x3.npy")) + [0]
        assertThrows(.trailingBytes(source: "<memory>", expectedBytes: 152, actualBytes: 153)) { _ = try NumPy.decode(bytes) }
    }

    func testUnsupportedVersionIsAnError() throws {
        var bytes = try FileIO.read(fixture("float32_2x3.npy"))
        bytes[6] = 4
        assertThrows(.unsupportedVersion(source: "<memory>", major: 4, minor: 0)) { _ = try NumPy.decode(bytes) }
    }

    func testHeaderWithoutShapeIsMalformed() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, }"
        let padded = header + String(repeating: " ", count: 64 - 10 - header.utf8.count - 1) + "\n"
        let bytes = NumPy.magic + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)
        XCTAssertThrowsError(try NumPy.decode(bytes)) { error in
            XCTAssertEqual(error as? NumPyError, .malformedHeader(source: "<memory>", detail: "missing key 'shape'"))
        }
    }

    func testFolderLoadsNpyFilesInSortedNameOrder() throws {
        let batch = try NumPy.readFolder(fixture("batch"))
        XCTAssertEqual(batch.map(\.name), ["a.npy", "b.npy", "c10.npy", "c2.npy"])
        // The script wrote c2 → 0, a → 1, c10 → 2, b → 3.
        XCTAssertEqual(batch.map { $0.array.floats[0] }, [1, 3, 2, 0])
    }

    func testEmptyFolderIsAnError() throws {
        let folder = NSTemporaryDirectory() + "/quanta-empty-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        assertThrows(.emptyFolder(path: folder)) { _ = try NumPy.readFolder(folder) }
    }
}
