import Foundation
import QuantaCompiler

/// `quanta quantize MODEL.onnx --calibration DATA -o MODEL.qmodel [--method M]`
enum QuantizeCommand: Command {
    static let name = "quantize"
    static let summary = "float ONNX (or .tflite) model + calibration samples → int8 .qmodel"
    static let usage = """
        usage: quanta quantize MODEL.onnx --calibration DATA -o MODEL.qmodel [options]
               quanta quantize MODEL.tflite --calibration DATA …   (a float .tflite, NHWC data)

        Imports MODEL.onnx, folds batch norm, fuses activations, calibrates activation
        ranges on DATA with the float reference kernels, quantizes to int8 (per-channel
        symmetric weights), plans the arena and writes the .qmodel. Prints a summary and
        the int8-vs-float agreement on the calibration samples.

        options:
          --calibration DATA   a .npy batch (N × input shape, float32, NCHW as the model
                               expects) or a folder of .npy files, one sample each
          -o, --output FILE    the .qmodel to write (default: MODEL with .qmodel)
          --method M           minmax | percentile | entropy | mse   (default: \(QuantizationOptions.defaultMethodName))
          --percentile P       percentile for --method percentile (default 99.99)
          --per-tensor         one weight scale per tensor instead of per output channel
          --kernels K          fast | reference   (default: fast; both give the same bits,
                               reference stores plain OHWI weights and needs no scratch)
          --q31-multipliers    keep TFLite's full 31-bit requantization multipliers
                               (default: for a right shift e ≤ 12, round them to 22 − e
                               significant bits, a change of at most 0.1 % that halves the
                               x86 output stage; docs/NUMERICS.md)
          --pair-bounded-weights
                               quantize 1×1 convolutions so every pair of adjacent input
                               channels' weights has |w0| + |w1| ≤ 128, and store them for
                               the uint8 × int8 GEMM (vpmaddubsw on x86 AVX2: faster there,
                               the same bits everywhere; costs some weight precision,
                               docs/PERFORMANCE.md). Default off: ARM's int16 GEMM is fast
          --input-shape NAME=DIMS
                               fix a dynamic input shape, e.g. input=1x3x224x224
                               (default: dynamic dims taken from the calibration data)
          --limit N            use at most N calibration samples (the first N)
          --seed S             with --limit: N samples chosen from the whole set by a
                               generator seeded with S (the same subset for the same S)
          --no-fuse            write ops as they are: no fused inverted-residual blocks, no
                               depthwise convolution in place (see docs/MEMORY.md)
          --fuse-all           fuse every block that lowers its own step's bytes and run every
                               eligible depthwise in place (default: only the blocks and
                               in-place ops the arena's size needs; those are slower)
          --smallest-arena     move any op whose fast kernel's scratch sets the arena's
                               peak to the scratch-free reference kernel, however slow
                               (default: only ops with at most 1/200 of the model's MACs,
                               so the arena is near its smallest at about full speed)
          --json               print the summary as JSON
          --quiet              no progress bar
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(
            argv, valued: ["calibration", "output", "method", "percentile", "input-shape", "limit", "seed", "kernels"],
            booleans: ["per-tensor", "json", "quiet", "no-fuse", "fuse-all", "smallest-arena", "q31-multipliers", "pair-bounded-weights"], aliases: ["o": "output"])
        try args.expectPositionals(max: 1)
        let modelPath = try args.positional(0, "MODEL.onnx")
        let calibration = try args.require("calibration")
        let output = args.value("output") ?? (modelPath.hasSuffix(".onnx") ? String(modelPath.dropLast(5))
            : modelPath.hasSuffix(".tflite") ? String(modelPath.dropLast(7)) : modelPath) + ".qmodel"
        try FileIO.checkOutput(output, isNot: [("model", modelPath), ("calibration file", calibration)])

        var options = QuantizationOptions()
        if let m = args.value("method") {
            guard let method = CalibrationMethod(name: m, percentile: args.value("percentile").flatMap(Double.init)) else {
                throw CLIError.usage("unknown --method '\(m)'; expected minmax, percentile, entropy or mse")
            }
            options.method = method
        } else if let p = args.value("percentile") {
            guard let v = Double(p), v > 0, v <= 100 else { throw CLIError.usage("--percentile expects a number in (0, 100], got '\(p)'") }
            options.method = .percentile(v)
        }
        options.perTensorWeights = args.flag("per-tensor")
        options.shortMultipliers = !args.flag("q31-multipliers")
        options.pairBoundedWeights = args.flag("pair-bounded-weights")
        if let k = args.value("kernels") {
            guard let kernels = KernelSelection(rawValue: k) else {
                throw CLIError.usage("unknown --kernels '\(k)'; expected fast or reference")
            }
            options.kernels = kernels
        }
        // Dynamic dims not given with --input-shape come from the calibration data's shape.
        let inputShapes = ONNXInputShapes.resolve(
            onnxPath: modelPath, samplePath: calibration, given: try parseInputShapes(args.value("input-shape")))
        let limit = try args.int("limit", default: Int.max)

        let progress = ProgressBar(enabled: !args.flag("quiet") && !args.flag("json"))
        let result = try QuantizePipeline.run(
            onnxPath: modelPath, calibrationPath: calibration, outputPath: output, options: options,
            inputShapes: inputShapes, sampleLimit: limit, sampleSeed: try args.seed("seed"),
            memoryPasses: args.flag("no-fuse") ? .none : MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: !args.flag("fuse-all"), inPlaceOnlyWhereArenaNeedsIt: !args.flag("fuse-all"), smallestArena: args.flag("smallest-arena")), progress: { done, total, stage in progress.update(done, total, stage) })
        progress.finish()
        if args.flag("json") {
            print(result.summary.json())
        } else {
            print(result.summary.text())
            print("wrote \(output)")
        }
    }
}

/// Parses `NAME=1x3x224x224[,NAME2=...]`.
func parseInputShapes(_ text: String?) throws -> [String: [Int]] {
    guard let text else { return [:] }
    var result: [String: [Int]] = [:]
    for part in text.split(separator: ",") {
        let pieces = part.split(separator: "=", maxSplits: 1)
        guard pieces.count == 2 else { throw CLIError.usage("--input-shape expects NAME=DIMS like input=1x3x224x224, got '\(part)'") }
        let dims = pieces[1].split(separator: "x").map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw CLIError.usage("--input-shape: bad dimensions '\(pieces[1])'")
        }
        result[String(pieces[0])] = dims.map { $0! }
    }
    return result
}
