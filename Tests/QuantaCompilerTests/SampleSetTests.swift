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

    /// `SampleStream` reads the same samples (values, order, positions) as a whole load, from
    /// a batch file and a folder of files (a batch and a single sample), any subset; only headers
    /// up front: a sample's NaN is found when that sample is read.
    func testStreamReadsWhatTheWholeLoadReads() throws {
        let folder = temporaryPath("stream-folder")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shape = TensorShape(h: 2, w: 3, c: 2)
        var values = (0..<(7 * 12)).map { Float($0) * 0.5 - 3 }
        try NumPy.write(NumPyArray(shape: [7, 2, 2, 3], float32: values), to: folder + "/a.npy")
        try NumPy.write(NumPyArray(shape: [2, 2, 3], float32: (0..<12).map { Float($0) / 7 }), to: folder + "/b.npy")
        for (path, limit, seed) in [(folder + "/a.npy", Int.max, nil), (folder, Int.max, nil), (folder, 5, UInt64(3)), (folder, 2, nil)] as [(String, Int, UInt64?)] {
            let whole = try SampleSet.load(path: path, shape: shape, layout: .nchw, limit: limit, seed: seed)
            let stream = try SampleStream(path: path, shape: shape, layout: .nchw, limit: limit, seed: seed)
            XCTAssertEqual(stream.count, whole.samples.count)
            XCTAssertEqual(stream.indices, whole.indices)
            XCTAssertEqual(try stream.samples(0..<stream.count), whole.samples)
            XCTAssertEqual(try stream.sample(stream.count - 1), whole.samples.last)
        }
        values[5 * 12 + 4] = .nan
        try NumPy.write(NumPyArray(shape: [7, 2, 2, 3], float32: values), to: folder + "/a.npy")
        let stream = try SampleStream(path: folder + "/a.npy", shape: shape, layout: .nchw)
        XCTAssertNoThrow(try stream.sample(4))
        XCTAssertThrowsError(try stream.sample(5)) { error in
            XCTAssertEqual(error as? SampleError, .notFinite(source: folder + "/a.npy", sample: 5, index: 4))
        }
    }

    /// A model whose input has a fixed batch of 2 takes data of exactly its declared shape
    /// as one sample (it was read as two samples of one item: "needs 216 values, 108 were
    /// given"), and 2·K items as K samples; quantize and run work end to end.
    func testFixedBatchInputTakesItsDeclaredShape() throws {
        let dir = temporaryPath("batch2")
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = ImportTestRandom(seed: 21)
        let bytes = ONNXBuilder.model(
            nodes: [ONNXBuilder.node("Conv", ["X", "W"], ["Y"], name: "conv", attributes: [("pads", .ints([1, 1, 1, 1]))])],
            initializers: [ONNXBuilder.tensor("W", dims: [4, 3, 3, 3], floats: rng.floats(108))],
            inputs: [ONNXBuilder.valueInfo("X", [.value(2), .value(3), .value(6), .value(6)])],
            outputs: [ONNXBuilder.valueInfo("Y", [.value(2), .value(4), .value(6), .value(6)])])
        let onnx = dir + "/b2.onnx", one = dir + "/one.npy", three = dir + "/three.npy", q = dir + "/b2.qmodel"
        try FileIO.writeAtomically(bytes, to: onnx)
        try NumPy.write(NumPyArray(shape: [2, 3, 6, 6], float32: rng.floats(216)), to: one)
        try NumPy.write(NumPyArray(shape: [6, 3, 6, 6], float32: rng.floats(648)), to: three)
        let shape = TensorShape(n: 2, h: 6, w: 6, c: 3)
        XCTAssertEqual(try SampleStream(path: one, shape: shape, layout: .nchw).count, 1)
        XCTAssertEqual(try SampleStream(path: three, shape: shape, layout: .nchw).count, 3)
        XCTAssertEqual(try SampleStream(path: one, shape: shape, layout: .nchw).sample(0).count, 216)
        XCTAssertThrowsError(try SampleStream(path: one, shape: TensorShape(n: 4, h: 6, w: 6, c: 3), layout: .nchw))
        _ = try QuantizePipeline.run(onnxPath: onnx, calibrationPath: three, outputPath: q, options: QuantizationOptions())
        let y = dir + "/y.npy"
        let r = try ModelRunner.runQuantized(modelPath: q, inputPath: one, outputPath: y, rawInt8: false)
        XCTAssertEqual(r.samples, 1)
        XCTAssertEqual(try NumPy.read(y).shape, [2, 4, 6, 6])
    }

    func testWrongShapeNamesExpectedAndActual() throws {
        let path = temporaryPath("wrong.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [2, 3], float32: [1, 2, 3, 4, 5, 6]), to: path)
        XCTAssertThrowsError(try SampleSet.load(path: path, shape: TensorShape(h: 2, w: 2, c: 1), layout: .nchw)) { error in
            XCTAssertEqual(error as? SampleError, .wrongShape(source: path, expected: [1, 1, 2, 2], actual: [2, 3]))
        }
    }

    /// A model of fixed batch 2 takes [2, ...] (one inference) or a multiple of 2 stacked;
    /// anything else states both readings.
    func testFixedBatchShapeErrorStatesBothReadings() throws {
        let path = temporaryPath("batch1.npy")
        defer { unlink(path) }
        try NumPy.write(NumPyArray(shape: [1, 3, 1, 1], float32: [1, 2, 3]), to: path)
        XCTAssertThrowsError(try SampleSet.load(path: path, shape: TensorShape(n: 2, h: 1, w: 1, c: 3), layout: .nchw)) { error in
            XCTAssertEqual("\(error)", "\(path): shape [1, 3, 1, 1] does not match the model input [2, 3, 1, 1] (one sample) or a multiple of 2 × [3, 1, 1] (a batch)")
        }
        try NumPy.write(NumPyArray(shape: [4, 3, 1, 1], float32: (0..<12).map(Float.init)), to: path)
        XCTAssertEqual(try SampleSet.load(path: path, shape: TensorShape(n: 2, h: 1, w: 1, c: 3), layout: .nchw).samples.count, 2)
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
