import Foundation
import QuantaCompiler

/// `quanta bench MODEL.qmodel [--iterations N] [--warmup N] [--json] [--float MODEL.onnx]`
enum BenchCommand: Command {
    static let name = "bench"
    static let summary = "time a .qmodel: whole invokes, every op, MACs/s per op kind, vs float"
    static let usage = """
        usage: quanta bench MODEL.qmodel [--iterations N] [--warmup N] [--input X.npy] [--seed S]
                            [--float MODEL.onnx | --no-float] [--float-iterations N]
                            [--json | --format text|json|tflite]

        Loads and validates the model, binds an arena of the size it states, runs the
        warm-up invokes, then times N whole invokes (wall time and the thread's CPU time)
        alternating with N op-by-op passes (each op run alone with the interpreter's range
        invoke). Prints per op and per op kind the median, min and max latency and the MAC
        throughput, the arena against its lower bound, and the total latency. On a loaded
        machine quote the CPU time: it excludes the time the thread was preempted.

        The float model (--float, or MODEL.onnx beside MODEL.qmodel when it exists) is
        timed on the float reference kernels over the same input, for the int8/float
        CPU-time ratio. Inputs are random int8 values (seeded, deterministic) unless --input
        gives float32 samples, which are quantized with the model's input parameters and
        used in turn.

        options:
          --iterations N         timed repetitions (default 20)
          --warmup N             untimed invokes first (default 3)
          --input FILE           float32 .npy samples instead of random data
          --seed S               seed of the random input (default 1)
          --float FILE           the ONNX model to time on the float reference kernels
          --no-float             do not time a float model, even one beside the .qmodel
          --float-iterations N   timed float runs (default: --iterations)
          --json                 print the report as JSON (--format json)
          --format tflite        print it as TFLite's benchmark_model does (count= first=
                                 curr= min= max= avg= std= in microseconds, the summary by
                                 node type), to compare with published figures
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(
            argv, valued: ["iterations", "warmup", "input", "seed", "float", "float-iterations", "format"],
            booleans: ["json", "no-float"])
        try args.expectPositionals(max: 1)
        let path = try args.positional(0, "MODEL.qmodel")
        if path.hasSuffix(".onnx") {
            throw CLIError.usage("bench times a .qmodel; quantize \(path) first ('quanta quantize'), or pass it with --float")
        }
        let iterations = try args.int("iterations", default: 20)
        if iterations < 1 { throw CLIError.usage("--iterations must be at least 1") }
        let warmup = try args.int("warmup", default: 3)
        var floatIterations: Int?
        if args.value("float-iterations") != nil {
            floatIterations = try args.int("float-iterations", default: iterations)
            if floatIterations! < 1 { throw CLIError.usage("--float-iterations must be at least 1") }
        }
        guard let seed = UInt64(args.value("seed") ?? "1") else {
            throw CLIError.usage("--seed expects a non-negative integer, got '\(args.value("seed") ?? "")'")
        }
        if args.flag("no-float") && args.value("float") != nil {
            throw CLIError.usage("--float and --no-float exclude each other")
        }
        let floatModel = args.flag("no-float") ? nil : (args.value("float") ?? ModelBenchmark.siblingONNX(of: path))
        let input: BenchmarkInput = args.value("input").map { .samples(path: $0) } ?? .random(seed: seed)
        if args.value("input") != nil && args.value("seed") != nil {
            throw CLIError.usage("--seed applies to random input only, not with --input")
        }
        if let f = args.value("format"), !["text", "json", "tflite"].contains(f) {
            throw CLIError.usage("unknown --format '\(f)'; expected text, json or tflite")
        }
        let report = try ModelBenchmark.run(
            bytes: try FileIO.read(path), source: path, input: input, floatModel: floatModel,
            options: BenchmarkOptions(iterations: iterations, warmup: warmup, floatIterations: floatIterations))
        switch args.value("format") ?? (args.flag("json") ? "json" : "text") {
        case "json": print(report.json())
        case "tflite": print(report.tfliteText())
        case "text": print(report.table())
        case let other: throw CLIError.usage("unknown --format '\(other)'; expected text, json or tflite")
        }
    }
}
