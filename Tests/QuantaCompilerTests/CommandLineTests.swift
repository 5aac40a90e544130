import Foundation
import XCTest
@testable import QuantaCompiler

/// The `quanta` tool as a user runs it: exit codes, one-line errors, no partial files.
final class CommandLineTests: XCTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built `quanta` next to the test bundle (`swift build --build-tests` builds both).
    static let executable: URL = {
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("quanta")
    }()

    private var scratch = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.executable.path), "quanta not built at \(Self.executable.path)")
        scratch = NSTemporaryDirectory() + "/quanta-cli-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @discardableResult
    func quanta(_ args: String...) throws -> Outcome { try quanta(args) }

    @discardableResult
    func quanta(_ args: [String]) throws -> Outcome {
        let r = try runProcess(Self.executable, args)
        return Outcome(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// Runs a Python script (python3 with onnx, as .ci/run installs) that writes a fixture.
    func python(_ script: String, _ args: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + args
        let err = Pipe()
        process.standardError = err
        try process.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: e, as: UTF8.self))
    }

    let model = repositoryRoot + "/Models/digits_mobilenet.onnx"
    let calibration = repositoryRoot + "/Models/digits_calibration.npy"
    let evaluation = repositoryRoot + "/Models/digits_eval.npy"

    /// Asserts a failure with one line on stderr that contains `fragment`, and no output file.
    func assertFails(_ outcome: Outcome, status: Int32 = 1, mentioning fragment: String, noFile: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.status, status, outcome.stderr, file: file, line: line)
        let lines = outcome.stderr.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty, file: file, line: line)
        XCTAssertTrue(lines[0].contains(fragment), "'\(lines.first ?? "")' does not mention '\(fragment)'", file: file, line: line)
        XCTAssertFalse(outcome.stderr.contains("Fatal error"), file: file, line: line)
        if let noFile { XCTAssertFalse(FileManager.default.fileExists(atPath: noFile), "partial output \(noFile) left behind", file: file, line: line) }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: scratch))?.filter { $0.contains(".tmp-") } ?? []
        XCTAssertEqual(leftovers, [], "temporary files left behind", file: file, line: line)
    }

    func testQuantizeRunInspectEvalRoundTrip() throws {
        let q = scratch + "/m.qmodel"
        let quantize = try quanta("quantize", model, "--calibration", calibration, "-o", q, "--limit", "40", "--quiet")
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains("top-1 agreement"))
        let inspect = try quanta("inspect", q, "--json")
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        let arena = try XCTUnwrap(json?["arenaBytes"] as? Int), bound = try XCTUnwrap(json?["arenaLowerBound"] as? Int)
        XCTAssertTrue(bound > 0 && bound <= arena, "lower bound \(bound), arena \(arena)")
        XCTAssertTrue(quantize.stdout.contains("arena      \(formatBytes(arena))"), "quantize and inspect disagree on the arena: \(quantize.stdout)")
        XCTAssertEqual((json?["layers"] as? [Any])?.count, 22)
        let y = scratch + "/y.npy"
        XCTAssertEqual(try quanta("run", q, "--input", evaluation, "--output", y).status, 0)
        XCTAssertEqual(try NumPy.read(y).shape, [300, 10])
        let yi = scratch + "/yi.npy"
        XCTAssertEqual(try quanta("run", q, "--input", evaluation, "--output", yi, "--int8").status, 0)
        XCTAssertEqual(try NumPy.read(yi).dtype, .int8)
        let baseline = scratch + "/b.json"
        let eval = try quanta("eval", model, q, "--data", evaluation, "--limit", "20", "--write-baseline", baseline, "--quiet")
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(try quanta("eval", model, q, "--data", evaluation, "--limit", "20", "--baseline", baseline, "--quiet").status, 0)
    }

    /// `--no-fuse` writes the ops as they are; by default the MobileNetV2 export's blocks are
    /// fused, the arena is at most half the naive bound, and both files give the same int8
    /// outputs through `quanta run`.
    func testNoFuseKeepsWholeTensorsAndTheSameOutputs() throws {
        let stem = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32"
        var arenas: [Int] = [], outputs: [Data] = []
        // The smallest-arena plan for the half-bound claim (the default keeps every op with
        // more than 1/200 of the MACs on the fast kernels, whose scratch costs a little more).
        for flags in [["--smallest-arena"], ["--no-fuse"]] {
            let q = scratch + "/m\(flags.count).qmodel"
            let quantize = try quanta(
                ["quantize", stem + ".onnx", "--calibration", stem + "_calibration.npy", "-o", q, "--limit", "4", "--json"] + flags)
            XCTAssertEqual(quantize.status, 0, quantize.stderr)
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(quantize.stdout.utf8)) as? [String: Any])
            let arena = try XCTUnwrap(summary["arenaBytes"] as? Int), naive = try XCTUnwrap(summary["naiveLowerBound"] as? Int)
            if flags != ["--no-fuse"] {
                XCTAssertGreaterThan(try XCTUnwrap(summary["fusedBlocks"] as? Int), 0)
                XCTAssertLessThanOrEqual(2 * arena, naive)
            } else {
                XCTAssertEqual(summary["fusedBlocks"] as? Int, 0)
                XCTAssertGreaterThanOrEqual(arena, naive)
            }
            arenas.append(arena)
            let y = scratch + "/y\(flags.count).npy"
            XCTAssertEqual(try quanta(["run", q, "--input", stem + "_eval.npy", "--output", y, "--int8"]).status, 0)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: y)))
        }
        XCTAssertLessThan(arenas[0], arenas[1])
        XCTAssertEqual(outputs[0], outputs[1], "fused and unfused int8 outputs differ")
    }

    /// `--pair-bounded-weights`: the written model's 1×1 layers run the uint8 GEMM (`quanta
    /// inspect` names it), and `quanta run` gives the same int8 outputs as the same
    /// quantization written for the reference kernels (`--kernels reference`).
    func testPairBoundedWeightsWriteTheU8GEMMWithTheReferenceKernelsOutputs() throws {
        let stem = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32"
        var outputs: [Data] = []
        for (i, flags) in [["--pair-bounded-weights"], ["--pair-bounded-weights", "--kernels", "reference", "--no-fuse"]].enumerated() {
            let q = scratch + "/pb\(i).qmodel"
            let quantize = try quanta(["quantize", stem + ".onnx", "--calibration", stem + "_calibration.npy", "-o", q, "--limit", "4", "--quiet"] + flags)
            XCTAssertEqual(quantize.status, 0, quantize.stderr)
            let inspect = try quanta("inspect", q)
            XCTAssertEqual(inspect.stdout.contains("pointwiseU8"), i == 0, inspect.stdout)
            // Every standalone 1×1 layer too, not only the fused blocks' stages.
            let int16GEMM = inspect.stdout.range(of: #"conv2D +pointwise "#, options: .regularExpression)
            XCTAssertNil(int16GEMM, inspect.stdout)
            if i == 0 { XCTAssertNotNil(inspect.stdout.range(of: #"conv2D +pointwiseU8 "#, options: .regularExpression), inspect.stdout) }
            let y = scratch + "/pb\(i).npy"
            XCTAssertEqual(try quanta(["run", q, "--input", stem + "_eval.npy", "--output", y, "--int8"]).status, 0)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: y)))
        }
        XCTAssertEqual(outputs[0], outputs[1], "uint8 GEMM and reference kernel outputs differ")
        XCTAssertTrue(try quanta("quantize", "--help").stdout.contains("--pair-bounded-weights"))
    }

    /// An output that would overwrite an input is refused before any work, with exit 1,
    /// and the input is left as it was: the same path, a hard link, a symbolic link.
    func testOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
        let copy = scratch + "/m.onnx", calib = scratch + "/c.npy", link = scratch + "/hard.onnx", soft = scratch + "/soft.npy"
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        try FileManager.default.copyItem(atPath: calibration, toPath: calib)
        XCTAssertEqual(link.withCString { l in copy.withCString { Glibc.link($0, l) } }, 0)
        try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: calib)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy)), calibrationBefore = try Data(contentsOf: URL(fileURLWithPath: calib))
        for (output, message) in [(copy, "\(copy): the output would overwrite the model; choose another output path"),
                                  (calib, "\(calib): the output would overwrite the calibration file; choose another output path"),
                                  (link, "\(link): the output is the same file as the model '\(copy)'; choose another output path"),
                                  (soft, "\(soft): the output is the same file as the calibration file '\(calib)'; choose another output path")] {
            let r = try quanta("quantize", copy, "--calibration", calib, "-o", output, "--quiet")
            XCTAssertEqual(r.status, 1, output)
            XCTAssertEqual(r.stderr, "quanta: \(message)\n")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: calib)), calibrationBefore)
        let q = scratch + "/m.qmodel"
        XCTAssertEqual(try quanta("quantize", copy, "--calibration", calib, "-o", q, "--limit", "8", "--quiet").status, 0)
        let modelBytes = try Data(contentsOf: URL(fileURLWithPath: q))
        for (output, role) in [(q, "model"), (calib, "input")] {
            let r = try quanta("run", q, "--input", calib, "--output", output)
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.stderr, "quanta: \(output): the output would overwrite the \(role); choose another output path\n")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: q)), modelBytes)
        let eval = try quanta("eval", copy, q, "--data", calib, "--write-baseline", q, "--quiet")
        XCTAssertEqual(eval.status, 1)
        XCTAssertEqual(eval.stderr, "quanta: \(q): the output would overwrite the int8 model; choose another output path\n")
    }

    /// A hostile model (issue 19's fixtures) ends with one line, exit 1, nothing written.
    func testHostileONNXModelIsOneLineExitOneAndNothingWritten() throws {
        let dir = ONNXRobustnessTests.directory.path
        for name in ["flatten_axis_minus5", "constant_of_shape_huge", "duplicate_node_output"] {
            let out = scratch + "/\(name).qmodel"
            let r = try quanta("quantize", dir + "/\(name).onnx", "--calibration", calibration, "-o", out, "--quiet")
            XCTAssertEqual(r.status, 1, name)
            XCTAssertEqual(r.stderr, "quanta: \(dir)/\(name).onnx: \(ONNXRobustnessTests.expected[name]!)\n")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }

    /// `--baseline` naming a file that is not a baseline: one line, no decoder internals.
    func testBaselineThatIsNotJSONIsOneLine() throws {
        let bad = scratch + "/bad.json"
        try Data("not json".utf8).write(to: URL(fileURLWithPath: bad))
        let q = scratch + "/m.qmodel"
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", q, "--limit", "8", "--quiet").status, 0)
        let r = try quanta("eval", model, q, "--data", evaluation, "--limit", "4", "--baseline", bad, "--quiet")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "quanta: \(bad): not a baseline written by quanta eval --write-baseline (not JSON)\n")
    }

    /// Saturation made visible on the command line: a calibration set with one sample of
    /// 1e30 values is named in a warning; inputs 100× beyond the calibration range get a
    /// note on stderr from `run` and `eval` (not with --quiet).
    func testOutlierCalibrationSampleAndClippedInputsAreReported() throws {
        func floats(_ a: NumPyArray) throws -> [Float] {
            guard case .float32(let v) = a.elements else { throw XCTSkip("float32 data expected") }
            return v
        }
        let data = try NumPy.read(calibration)
        let perSample = data.shape.dropFirst().reduce(1, *)
        var values = Array(try floats(data).prefix(8 * perSample))
        for k in (3 * perSample)..<(4 * perSample) { values[k] = 1e30 }
        let bad = scratch + "/bad.npy", q = scratch + "/m.qmodel"
        try FileIO.writeAtomically(try NumPy.encode(NumPyArray(shape: [8] + Array(data.shape.dropFirst()), float32: values), source: bad), to: bad)
        let quantize = try quanta("quantize", model, "--calibration", bad, "-o", q, "--quiet")
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains("warning    calibration sample 3 sets the range of"), quantize.stdout)
        let good = try quanta("quantize", model, "--calibration", calibration, "-o", q, "--limit", "16", "--quiet")
        XCTAssertFalse(good.stdout.contains("warning"), good.stdout)
        XCTAssertTrue(good.stdout.contains("clipping   "), good.stdout)
        let scaled = scratch + "/scaled.npy", y = scratch + "/y.npy"
        let eval = try NumPy.read(evaluation)
        try FileIO.writeAtomically(try NumPy.encode(NumPyArray(shape: eval.shape, float32: try floats(eval).map { $0 * 100 }), source: scaled), to: scaled)
        let run = try quanta("run", q, "--input", scaled, "--output", y)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("quanta: note: ") && run.stderr.contains("of the input values lie outside the model's input range"), run.stderr)
        XCTAssertEqual(try quanta("run", q, "--input", scaled, "--output", y, "--quiet").stderr, "")
        XCTAssertEqual(try quanta("run", q, "--input", evaluation, "--output", y).stderr, "", "in-range data: no note")
        let e = try quanta("eval", model, q, "--data", scaled, "--limit", "8")
        XCTAssertTrue(e.stderr.contains("quanta: note: "), e.stderr)
    }

    /// `--limit N --seed S` picks a reproducible subset for quantize and eval (labels follow
    /// their samples).
    func testSeededSubsetIsReproducible() throws {
        let a = scratch + "/a.qmodel", b = scratch + "/b.qmodel", c = scratch + "/c.qmodel"
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", a, "--limit", "12", "--seed", "5", "--quiet").status, 0)
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", b, "--limit", "12", "--seed", "5", "--quiet").status, 0)
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", c, "--limit", "12", "--quiet").status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: c)))
        let labels = repositoryRoot + "/Models/digits_eval_labels.npy"
        let e = try quanta("eval", model, a, "--data", evaluation, "--labels", labels, "--limit", "20", "--seed", "9", "--json")
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("\"samples\" : 20"), e.stdout)
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", c, "--seed", "x").status, 2)
    }

    /// A model with two outputs: `quanta run` writes both, output 1 as Y_1.npy beside
    /// Y.npy, for the .qmodel and the .onnx alike, and the int8 ones are close to float.
    func testEveryOutputOfAMultiOutputModelIsWritten() throws {
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/onnx_patterns").path
        let onnx = dir + "/two_outputs.onnx", input = dir + "/two_outputs_input.npy", q = scratch + "/two.qmodel"
        XCTAssertEqual(try quanta("quantize", onnx, "--calibration", input, "-o", q, "--quiet").status, 0)
        let y = scratch + "/y.npy", f = scratch + "/f.npy"
        let run = try quanta("run", q, "--input", input, "--output", y)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("wrote \(y), \(scratch)/y_1.npy"), run.stdout)
        XCTAssertEqual(try quanta("run", onnx, "--input", input, "--output", f).status, 0)
        for (a, b, shape) in [(y, f, [3, 4, 8, 8]), (scratch + "/y_1.npy", scratch + "/f_1.npy", [3, 4, 4, 4])] {
            let int8 = try NumPy.read(a), float = try NumPy.read(b)
            XCTAssertEqual(int8.shape, shape)
            XCTAssertEqual(float.shape, shape)
            let range = (float.floats.max() ?? 0) - (float.floats.min() ?? 0)
            for (u, v) in zip(int8.floats, float.floats) { XCTAssertEqual(u, v, accuracy: range / 64) }
        }
    }

    func testMissingModelFile() throws {
        let out = scratch + "/x.qmodel"
        assertFails(try quanta("quantize", scratch + "/none.onnx", "--calibration", calibration, "-o", out), mentioning: "no such file", noFile: out)
    }

    func testDirectoryInsteadOfModel() throws {
        let out = scratch + "/x.qmodel"
        assertFails(try quanta("quantize", scratch, "--calibration", calibration, "-o", out), mentioning: "is a directory", noFile: out)
    }

    func testTruncatedONNX() throws {
        let truncated = scratch + "/t.onnx", out = scratch + "/x.qmodel"
        try FileIO.writeAtomically(Array(try FileIO.read(model).prefix(5000)), to: truncated)
        assertFails(try quanta("quantize", truncated, "--calibration", calibration, "-o", out), mentioning: "malformed ONNX", noFile: out)
    }

    func testWrongDTypeCalibration() throws {
        let out = scratch + "/x.qmodel"
        assertFails(try quanta("quantize", model, "--calibration", repositoryRoot + "/Models/digits_eval_labels.npy", "-o", out), mentioning: "not float", noFile: out)
    }

    func testWrongShapeCalibration() throws {
        let bad = scratch + "/bad.npy", out = scratch + "/x.qmodel"
        try NumPy.write(NumPyArray(shape: [2, 3, 16, 16], float32: [Float](repeating: 0, count: 2 * 3 * 256)), to: bad)
        assertFails(try quanta("quantize", model, "--calibration", bad, "-o", out), mentioning: "does not match the model input", noFile: out)
    }

    func testEmptyCalibrationFolder() throws {
        let empty = scratch + "/empty", out = scratch + "/x.qmodel"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertFails(try quanta("quantize", model, "--calibration", empty, "-o", out), mentioning: "no .npy files", noFile: out)
    }

    func testNaNInCalibration() throws {
        let bad = scratch + "/nan.npy", out = scratch + "/x.qmodel"
        var values = [Float](repeating: 0.5, count: 2 * 256)
        values[300] = .nan
        try NumPy.write(NumPyArray(shape: [2, 1, 16, 16], float32: values), to: bad)
        assertFails(try quanta("quantize", model, "--calibration", bad, "-o", out), mentioning: "NaN or infinite", noFile: out)
    }

    func testNaNInWeightsNamesTheNodeAndConstant() throws {
        let bad = scratch + "/nanw.onnx", out = scratch + "/x.qmodel"
        try python("""
            import onnx, numpy as np, sys
            from onnx import numpy_helper
            m = onnx.load(sys.argv[1])
            for t in m.graph.initializer:
                if t.name == "features.0.0.weight":
                    a = numpy_helper.to_array(t).copy(); a.flat[3] = np.nan
                    t.CopyFrom(numpy_helper.from_array(a, t.name))
            onnx.save(m, sys.argv[2])
            """, model, bad)
        assertFails(try quanta("quantize", bad, "--calibration", calibration, "-o", out),
                    mentioning: "node '/features/0/0/Conv': weights hold(s) 1 NaN or infinite value(s)", noFile: out)
    }

    func testUnsupportedOpNamesNodeOpAndSupportedList() throws {
        let bad = scratch + "/lstm.onnx", out = scratch + "/x.qmodel"
        try python("""
            import onnx, sys
            m = onnx.load(sys.argv[1]); m.graph.node[3].op_type = "LSTM"; onnx.save(m, sys.argv[2])
            """, model, bad)
        assertFails(try quanta("quantize", bad, "--calibration", calibration, "-o", out),
                    mentioning: "unsupported op 'LSTM'; supported ops: Add, ", noFile: out)
    }

    func testUnwritableOutput() throws {
        assertFails(try quanta("quantize", model, "--calibration", calibration, "-o", "/nonexistent-dir/x.qmodel", "--limit", "4"), mentioning: "cannot write")
    }

    func testTruncatedQModelIsRejectedByRunAndInspect() throws {
        let q = scratch + "/m.qmodel"
        XCTAssertEqual(try quanta("quantize", model, "--calibration", calibration, "-o", q, "--limit", "4", "--quiet").status, 0)
        let truncated = scratch + "/t.qmodel"
        try FileIO.writeAtomically(Array(try FileIO.read(q).prefix(3000)), to: truncated)
        assertFails(try quanta("inspect", truncated), mentioning: "truncated")
        assertFails(try quanta("run", truncated, "--input", evaluation, "--output", scratch + "/y.npy"), mentioning: "truncated", noFile: scratch + "/y.npy")
    }

    /// `--kernels reference` writes a plan with the reference kernels only; both plans give
    /// the same int8 outputs.
    func testKernelsOptionWritesReferenceOrOptimizedPlans() throws {
        var outputs: [NumPyArray] = []
        for kernels in ["fast", "reference"] {
            let q = scratch + "/\(kernels).qmodel"
            let quantize = try quanta("quantize", model, "--calibration", calibration, "-o", q, "--limit", "8", "--quiet", "--kernels", kernels)
            XCTAssertEqual(quantize.status, 0, quantize.stderr)
            let session = try QuantizedSession(bytes: try FileIO.read(q))
            let variants = (0..<session.model.opCount).map { session.model.op($0).variant }
            XCTAssertEqual(variants.allSatisfy { $0 == .reference }, kernels == "reference", "\(kernels): \(variants)")
            let y = scratch + "/\(kernels).npy"
            XCTAssertEqual(try quanta("run", q, "--input", evaluation, "--output", y, "--int8").status, 0)
            outputs.append(try NumPy.read(y))
        }
        XCTAssertEqual(outputs[0].dtype, .int8)
        XCTAssertEqual(outputs[0].shape, [300, 10])
        XCTAssertEqual(outputs[0].elements, outputs[1].elements)
    }

    func testUsageErrorsExitTwo() throws {
        assertFails(try quanta("quantize", model, "--calibration", calibration, "--method", "bogus"), status: 2, mentioning: "unknown --method")
        assertFails(try quanta("bogus"), status: 2, mentioning: "unknown command")
        assertFails(try quanta("quantize", model, "--calibration", calibration, "--kernels", "slow"), status: 2, mentioning: "unknown --kernels")
        assertFails(try quanta("run", model), status: 2, mentioning: "missing required option --input")
        XCTAssertEqual(try quanta("quantize", "--help").status, 0)
    }
}
