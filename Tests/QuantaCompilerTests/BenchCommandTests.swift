import Foundation
import XCTest
@testable import QuantaCompiler

/// `quanta bench` as a user runs it: JSON on stdout, the float model found beside the
/// .qmodel, one-line errors with exit status 2 (usage) or 1 (bad input).
final class BenchCommandTests: XCTestCase {
    private var scratch = ""
    private var qmodel = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: CommandLineTests.executable.path), "quanta not built")
        scratch = NSTemporaryDirectory() + "/quanta-bench-cli-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        qmodel = scratch + "/digits.qmodel"
        try FileIO.writeAtomically(BenchmarkTests.qmodel, to: qmodel)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func quanta(_ args: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(CommandLineTests.executable, args)
    }

    func assertOneLineError(_ r: (status: Int32, stdout: String, stderr: String), status: Int32, mentioning fragment: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(first.hasPrefix("quanta: ") && first.contains(fragment), "'\(first)' does not mention '\(fragment)'", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), file: file, line: line)
    }

    func testJSONReportWithoutAFloatModelBeside() throws {
        let r = try quanta("bench", qmodel, "--iterations", "2", "--warmup", "0", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(BenchmarkReport.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(report.iterations, 2)
        XCTAssertEqual(report.ops.count, report.opCount)
        XCTAssertNil(report.float)
        XCTAssertEqual(report.input, "random int8 (seed 1)")
    }

    func testFloatModelBesideTheQModelIsTimedUnlessNoFloat() throws {
        try FileManager.default.copyItem(atPath: BenchmarkTests.onnx, toPath: scratch + "/digits.onnx")
        let r = try quanta("bench", qmodel, "--iterations", "1", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONDecoder().decode(BenchmarkReport.self, from: Data(r.stdout.utf8)).float?.model, scratch + "/digits.onnx")
        let n = try quanta("bench", qmodel, "--iterations", "1", "--json", "--no-float")
        XCTAssertNil(try JSONDecoder().decode(BenchmarkReport.self, from: Data(n.stdout.utf8)).float)
    }

    func testTableWithInputSamplesAndExplicitFloat() throws {
        let r = try quanta("bench", qmodel, "--iterations", "1", "--input", BenchmarkTests.evaluation, "--float", BenchmarkTests.onnx)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("int8 invoke: median"))
        XCTAssertTrue(r.stdout.contains("float reference (\(BenchmarkTests.onnx))"))
        XCTAssertTrue(r.stdout.contains("(300 samples)"))
    }

    /// `--format tflite`: TFLite benchmark_model's lines, with the run's own counts and a
    /// summary row per op kind whose counts add up to the model's ops.
    func testTFLiteFormat() throws {
        let r = try quanta("bench", qmodel, "--iterations", "5", "--warmup", "2", "--no-float", "--format", "tflite")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "STARTING!")
        XCTAssertTrue(lines.contains { $0.hasPrefix("count=2 first=") }, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("count=5 first=") && $0.contains(" avg=") && $0.contains(" std=") }, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Inference timings in us: Init: ") }, r.stdout)
        let header = try XCTUnwrap(lines.firstIndex { $0.contains("[Node type]") })
        let rows = lines[(header + 1)...].prefix { $0.hasPrefix("\t") }
        let counts = rows.map { Int($0.split(separator: "\t")[1].trimmingCharacters(in: .whitespaces)) ?? -1 }
        XCTAssertEqual(counts.reduce(0, +), 22, "the digits model's 22 ops")
        XCTAssertTrue(rows.last?.contains("100.000%") ?? false, "the cdf ends at 100 %")
        assertOneLineError(try quanta("bench", qmodel, "--format", "xml"), status: 2, mentioning: "--format")
    }

    func testStatLineIsTFLites() {
        XCTAssertEqual(tfliteStatLine([10, 20, 30, 40]), "count=4 first=10 curr=40 min=10 max=40 avg=25 std=11")
        XCTAssertEqual(tfliteStatLine([]), "count=0")
    }

    func testHelpAndListing() throws {
        let help = try quanta("bench", "--help")
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--iterations N"))
        XCTAssertTrue(try quanta("--help").stdout.contains("bench"))
    }

    func testUsageErrors() throws {
        assertOneLineError(try quanta("bench", qmodel, "--iterations", "0"), status: 2, mentioning: "--iterations must be at least 1")
        assertOneLineError(try quanta("bench", qmodel, "--iterations", "x"), status: 2, mentioning: "--iterations")
        assertOneLineError(try quanta("bench", qmodel, "--bogus"), status: 2, mentioning: "unknown option")
        assertOneLineError(try quanta("bench"), status: 2, mentioning: "missing MODEL.qmodel")
        assertOneLineError(try quanta("bench", BenchmarkTests.onnx), status: 2, mentioning: "quantize")
        assertOneLineError(try quanta("bench", qmodel, "--float", BenchmarkTests.onnx, "--no-float"), status: 2, mentioning: "exclude")
        assertOneLineError(try quanta("bench", qmodel, "--seed", "-3"), status: 2, mentioning: "--seed")
    }

    func testBadInputErrors() throws {
        assertOneLineError(try quanta("bench", scratch + "/absent.qmodel"), status: 1, mentioning: "no such file")
        let garbage = scratch + "/garbage.qmodel"
        try FileIO.writeAtomically([UInt8](repeating: 7, count: 64), to: garbage)
        assertOneLineError(try quanta("bench", garbage), status: 1, mentioning: garbage)
        let other = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32.onnx"
        assertOneLineError(try quanta("bench", qmodel, "--float", other, "--iterations", "1"), status: 1, mentioning: "is it the same model")
        assertOneLineError(try quanta("bench", qmodel, "--input", scratch + "/absent.npy"), status: 1, mentioning: "absent.npy")
    }
}
