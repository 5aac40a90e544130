import XCTest
import QuantaKernels
@testable import QuantaCompiler

final class SampleSetTests: XCTestCase {
    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "/quanta-samples-\(getpid())-\(name)"
    }

    func testNCHWToNHWCMovesChannelsLast() {
        let shape = TensorShape(h: 1, w: 2, c: 3)
        // NCHW: c0 = [0, 1], c1 = [2, 3], c2 = [4, 5]
        let nhwc = LayoutConversion.toNHWC([0, 1, 2, 3, 4, 5] as [Float], shape: shape, from: .nchw)
        XCTAssertEqual(nhwc, [0, 2, 4, 1, 3, 5])
        XCTAssertEqual(LayoutConversion.fromNHWC(nhwc, shape: shape, to: .nchw), [0, 1, 2, 3, 4, 5])
    }

    func testBatchFileSplitsIntoSamples() throws {
        let path = temporaryPath("batch.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [3, 2, 1, 1], float32: [1, 2, 3, 4, 5, 6]), to: path)
        let set = try SampleSet.load(path: path, shape: TensorShape(h: 1, w: 1, c: 2), layout: .nchw)
        XCTAssertEqual(set.samples, [[1, 2], [3, 4], [5, 6]])
        let limited = try SampleSet.load(path: path, shape: TensorShape(h: 1, w: 1, c: 2), layout: .nchw, limit: 2)
        XCTAssertEqual(limited.samples.count, 2)
    }

    func testWrongShapeNamesExpectedAndActual() throws {
        let path = temporaryPath("wrong.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [2, 3], float32: [1, 2, 3, 4, 5, 6]), to: path)
        XCTAssertThrowsError(try SampleSet.load(path: path, shape: TensorShape(h: 2, w: 2, c: 1), layout: .nchw)) { error in
            XCTAssertEqual(error as? SampleError, .wrongShape(source: path, expected: [1, 1, 2, 2], actual: [2, 3]))
        }
    }

    func testNaNInDataIsRejectedWithItsPosition() throws {
        let path = temporaryPath("nan.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [2, 2, 1, 1], float32: [1, 2, 3, .nan]), to: path)
        XCTAssertThrowsError(try SampleSet.load(path: path, shape: TensorShape(h: 1, w: 1, c: 2), layout: .nchw)) { error in
            XCTAssertEqual(error as? SampleError, .notFinite(source: path, sample: 1, index: 1))
        }
    }

    func testIntegerDataIsRejected() throws {
        let path = temporaryPath("int.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [1, 2, 1, 1], int8: [1, 2]), to: path)
        XCTAssertThrowsError(try SampleSet.load(path: path, shape: TensorShape(h: 1, w: 1, c: 2), layout: .nchw)) { error in
            XCTAssertEqual(error as? SampleError, .wrongDType(source: path, dtype: NumPyDType.int8.rawValue))
        }
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try SampleSet.load(path: "/nonexistent/x.npy", shape: TensorShape(h: 1, w: 1, c: 1), layout: .nchw)) { error in
            XCTAssertEqual(error as? FileError, .notFound(path: "/nonexistent/x.npy"))
        }
    }
}
