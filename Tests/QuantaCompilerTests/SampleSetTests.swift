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

    /// `--limit N --seed S`: N samples from anywhere in the set (a folder of files too),
    /// the same for the same seed, in file order, with their positions for the labels.
    func testSeededSubsetIsReproducibleAndKeepsPositions() throws {
        let path = temporaryPath("many.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [40, 1, 1, 1], float32: (0..<40).map(Float.init)), to: path)
        let shape = TensorShape(h: 1, w: 1, c: 1)
        let a = try SampleSet.load(path: path, shape: shape, layout: .nchw, limit: 6, seed: 7)
        let b = try SampleSet.load(path: path, shape: shape, layout: .nchw, limit: 6, seed: 7)
        let c = try SampleSet.load(path: path, shape: shape, layout: .nchw, limit: 6, seed: 8)
        XCTAssertEqual(a.indices, b.indices)
        XCTAssertNotEqual(a.indices, c.indices)
        XCTAssertEqual(a.indices.count, 6)
        XCTAssertEqual(a.indices, a.indices.sorted())
        XCTAssertNotEqual(a.indices, Array(0..<6), "not simply the first six")
        XCTAssertEqual(a.samples, a.indices.map { [Float($0)] })
        XCTAssertEqual(try SampleSet.load(path: path, shape: shape, layout: .nchw, seed: 7).indices, Array(0..<40), "no limit: all")
        XCTAssertEqual(try SampleSet.load(path: path, shape: shape, layout: .nchw, limit: 6).indices, Array(0..<6))
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

/// The progress line's rate and time left.
final class ProgressTextTests: XCTestCase {
    func testRateAndETAAppearAfterASecond() {
        XCTAssertEqual(ProgressText.line(stage: "calibrating", done: 0, total: 64, elapsedSeconds: 0, width: 10),
                       "calibrating [··········] 0/64")
        XCTAssertEqual(ProgressText.line(stage: "calibrating", done: 16, total: 64, elapsedSeconds: 2, width: 10),
                       "calibrating [██········] 16/64  8.0/s  ETA 6 s")
        XCTAssertEqual(ProgressText.line(stage: "checking int8", done: 500, total: 5000, elapsedSeconds: 10, width: 10),
                       "checking int8 [█·········] 500/5000  50/s  ETA 1 min 30 s")
        XCTAssertEqual(ProgressText.line(stage: "x", done: 64, total: 64, elapsedSeconds: 4, width: 4), "x [████] 64/64  16/s")
    }

    func testDurations() {
        XCTAssertEqual(ProgressText.duration(0.2), "1 s")
        XCTAssertEqual(ProgressText.duration(59), "59 s")
        XCTAssertEqual(ProgressText.duration(185), "3 min 05 s")
        XCTAssertEqual(ProgressText.duration(3720), "1 h 02 min")
    }
}
