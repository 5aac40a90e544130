import Foundation
import XCTest
@testable import QuantaCompiler
import QuantaRuntime

/// `ModelBenchmark` over the shipped digits model: the report's structure and internal
/// consistency, inputs, and error cases. Timings themselves are never asserted.
final class BenchmarkTests: XCTestCase {
    static let onnx = repositoryRoot + "/Models/digits_mobilenet.onnx"
    static let evaluation = repositoryRoot + "/Models/digits_eval.npy"

    /// The digits model quantized once for the whole class (16 calibration samples).
    static let qmodel: [UInt8] = {
        let path = NSTemporaryDirectory() + "/quanta-bench-\(getpid()).qmodel"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try! QuantizePipeline.run(
            onnxPath: onnx, calibrationPath: repositoryRoot + "/Models/digits_calibration.npy", outputPath: path,
            options: QuantizationOptions(method: .minmax), sampleLimit: 16)
        return result.bytes
    }()

    let fast = BenchmarkOptions(iterations: 3, warmup: 1)

    func bench(_ input: BenchmarkInput = .random(seed: 1), float: String? = nil) throws -> BenchmarkReport {
        try ModelBenchmark.run(bytes: Self.qmodel, source: "digits.qmodel", input: input, floatModel: float, options: fast)
    }

    func testPerOpRowsCoverEveryOpInPlanOrder() throws {
        let report = try bench()
        let model = try Model(bytes: Self.qmodel.withUnsafeBytes { UnsafeRawBufferPointer($0) })
        let inspection = ModelInspection(model: model)
        XCTAssertEqual(report.opCount, model.opCount)
        XCTAssertEqual(report.ops.map(\.index), Array(0..<model.opCount))
        XCTAssertEqual(report.ops.map(\.name), inspection.layers.map(\.name))
        XCTAssertEqual(report.ops.map(\.macs), inspection.layers.map(\.macs))
        XCTAssertEqual(report.ops.reduce(0) { $0 + $1.macs }, report.macs)
        XCTAssertEqual(report.macs, inspection.macs)
        for op in report.ops {
            XCTAssertEqual(op.latency.samples, 3, op.name)
            XCTAssertTrue(op.latency.minMs <= op.latency.medianMs && op.latency.medianMs <= op.latency.maxMs, op.name)
            XCTAssertEqual(op.gmacPerSecond == nil, op.macs == 0 || op.latency.medianMs == 0, op.name)
        }
        XCTAssertTrue(report.ops.contains { $0.kind.hasPrefix("conv2D.") })
        XCTAssertTrue(report.ops.contains { $0.kind == "lookupTable" })
    }

    func testKindRowsPartitionTheOps() throws {
        let report = try bench()
        XCTAssertEqual(report.kinds.reduce(0) { $0 + $1.count }, report.opCount)
        XCTAssertEqual(report.kinds.reduce(0) { $0 + $1.macs }, report.macs)
        XCTAssertEqual(Set(report.kinds.map(\.kind)), Set(report.ops.map(\.kind)))
        XCTAssertEqual(report.kinds.count, Set(report.kinds.map(\.kind)).count, "one row per kind")
        for k in report.kinds {
            let members = report.ops.filter { $0.kind == k.kind }
            XCTAssertEqual(k.count, members.count, k.kind)
            XCTAssertEqual(k.medianMs, members.reduce(0) { $0 + $1.latency.medianMs }, accuracy: 1e-9, k.kind)
        }
        XCTAssertEqual(report.kinds.reduce(0) { $0 + $1.share }, 1, accuracy: 1e-9)
    }

    func testSumOfPerOpMediansIsWithinAFactorOfTheTotal() throws {
        let report = try bench()
        XCTAssertEqual(report.perOpMedianSumMs, report.ops.reduce(0) { $0 + $1.latency.medianMs }, accuracy: 1e-9)
        let total = report.total.latency.medianMs
        XCTAssertGreaterThan(total, 0)
        // Generous: the machine is shared; this catches a wrong unit or a missed op, not noise.
        let ratio = report.perOpMedianSumMs / total
        XCTAssertTrue(ratio > 0.2 && ratio < 5, "per-op sum \(report.perOpMedianSumMs) ms vs total \(total) ms")
    }

    func testJSONHasTheDocumentedKeysAndDecodesBack() throws {
        let report = try bench()
        let json = report.json()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["model", "input", "iterations", "warmup", "opCount", "macs", "fileBytes", "arenaBytes",
                    "arenaLowerBound", "total", "perOpMedianSumMs", "ops", "kinds"] {
            XCTAssertNotNil(object[key], "missing key \(key)")
        }
        XCTAssertNil(object["float"], "no float model was given")
        let total = try XCTUnwrap(object["total"] as? [String: Any])
        let latency = try XCTUnwrap(total["latency"] as? [String: Any])
        XCTAssertEqual(Set(latency.keys), ["medianMs", "minMs", "maxMs", "spread", "samples"])
        let ops = try XCTUnwrap(object["ops"] as? [[String: Any]])
        XCTAssertEqual(ops.count, report.opCount)
        XCTAssertEqual(Set(ops[0].keys).intersection(["index", "name", "kind", "kernel", "macs", "latency"]).count, 6)
        XCTAssertEqual(object["arenaBytes"] as? Int, report.arenaBytes)
        XCTAssertTrue(report.arenaLowerBound > 0 && report.arenaLowerBound <= report.arenaBytes)
        XCTAssertEqual(try JSONDecoder().decode(BenchmarkReport.self, from: Data(json.utf8)), report)
    }

    func testTableNamesEveryOpAndTheTotals() throws {
        let report = try bench(float: Self.onnx)
        let table = report.table()
        for op in report.ops where op.name.count <= 36 { XCTAssertTrue(table.contains(op.name), op.name) }
        XCTAssertTrue(table.contains("int8 invoke: median"))
        XCTAssertTrue(table.contains("arena \(report.arenaBytes) B"))
        XCTAssertTrue(table.contains("int8 / float time"))
    }

    func testFloatModelGivesTheRatioOfMedians() throws {
        let report = try bench(float: Self.onnx)
        let float = try XCTUnwrap(report.float)
        XCTAssertEqual(float.model, Self.onnx)
        XCTAssertEqual(float.latency.samples, 3)
        XCTAssertEqual(float.int8OverFloat, report.total.latency.medianMs / float.latency.medianMs, accuracy: 1e-12)
    }

    func testFloatIterationsAreSeparate() throws {
        let options = BenchmarkOptions(iterations: 2, warmup: 0, floatIterations: 1)
        let report = try ModelBenchmark.run(bytes: Self.qmodel, source: "m", input: .random(seed: 1), floatModel: Self.onnx, options: options)
        XCTAssertEqual(report.total.latency.samples, 2)
        XCTAssertEqual(report.float?.latency.samples, 1)
    }

    func testSamplesInputNamesTheFileAndCount() throws {
        let report = try bench(.samples(path: Self.evaluation))
        XCTAssertEqual(report.input, Self.evaluation + " (300 samples)")
        XCTAssertEqual(report.ops.count, report.opCount)
    }

    func testRandomInputIsDeterministicPerSeed() {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7), c = SplitMix64(seed: 8)
        let x = a.int8(count: 1000), y = b.int8(count: 1000), z = c.int8(count: 1000)
        XCTAssertEqual(x, y)
        XCTAssertNotEqual(x, z)
        XCTAssertTrue(x.contains(-128) || x.contains(127) || Set(x).count > 200, "covers the int8 range")
        XCTAssertTrue(x.contains { $0 < -64 } && x.contains { $0 > 64 })
        // SplitMix64's published first output for seed 0.
        var zero = SplitMix64(seed: 0)
        XCTAssertEqual(zero.next(), 0xE220_A839_7B1D_CDAF)
    }

    func testLatencyStatisticsMedianMinMaxSpread() {
        let odd = LatencyStatistics(nanoseconds: [3_000_000, 1_000_000, 2_000_000])
        XCTAssertEqual(odd.medianMs, 2)
        XCTAssertEqual(odd.minMs, 1)
        XCTAssertEqual(odd.maxMs, 3)
        XCTAssertEqual(odd.spread, 1)
        XCTAssertEqual(odd.samples, 3)
        let even = LatencyStatistics(nanoseconds: [4_000_000, 1_000_000, 2_000_000, 3_000_000])
        XCTAssertEqual(even.medianMs, 2.5)
        XCTAssertEqual(LatencyStatistics(nanoseconds: [0]).spread, 0)
    }

    func testZeroIterationsIsAnError() {
        XCTAssertThrowsError(try ModelBenchmark.run(
            bytes: Self.qmodel, source: "m", input: .random(seed: 1), options: BenchmarkOptions(iterations: 0))) {
            XCTAssertEqual($0 as? BenchmarkError, .noIterations)
        }
        XCTAssertThrowsError(try ModelBenchmark.run(
            bytes: Self.qmodel, source: "m", input: .random(seed: 1), options: BenchmarkOptions(iterations: 1, floatIterations: 0))) {
            XCTAssertEqual($0 as? BenchmarkError, .noIterations)
        }
    }

    func testFloatModelOfAnotherNetworkIsAnError() {
        let other = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32.onnx"
        XCTAssertThrowsError(try bench(float: other)) {
            XCTAssertEqual($0 as? BenchmarkError, .floatInputMismatch(onnx: other, floatElements: 3 * 32 * 32, int8Elements: 256))
        }
    }

    func testSamplesOfAnotherShapeAreAnError() {
        let other = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32_eval.npy"
        XCTAssertThrowsError(try bench(.samples(path: other))) {
            guard case .wrongShape(let source, _, _)? = $0 as? SampleError else { return XCTFail("\($0)") }
            XCTAssertEqual(source, other)
        }
    }

    func testCorruptModelIsALoadError() {
        var bytes = Self.qmodel
        bytes[bytes.count / 2] ^= 0xFF
        XCTAssertThrowsError(try ModelBenchmark.run(bytes: bytes, source: "bad.qmodel", input: .random(seed: 1), options: fast)) {
            XCTAssertEqual(($0 as? ModelLoadError)?.source, "bad.qmodel")
        }
    }

    func testSiblingONNXIsFoundOnlyWhenItExists() throws {
        let dir = NSTemporaryDirectory() + "/quanta-bench-sibling-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertNil(ModelBenchmark.siblingONNX(of: dir + "/m.qmodel"))
        _ = FileManager.default.createFile(atPath: dir + "/m.onnx", contents: Data([0]))
        XCTAssertEqual(ModelBenchmark.siblingONNX(of: dir + "/m.qmodel"), dir + "/m.onnx")
        XCTAssertNil(ModelBenchmark.siblingONNX(of: dir + "/m.onnx"), "an .onnx is not its own float model")
    }
}
