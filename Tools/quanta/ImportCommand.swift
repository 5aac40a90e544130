import Foundation
import QuantaCompiler

/// `quanta import MODEL.tflite -o MODEL.qmodel`
enum ImportCommand: Command {
    static let name = "import"
    static let summary = "int8 .tflite model → .qmodel (TFLite's own quantization, bit-exact)"
    static let usage = """
        usage: quanta import MODEL.tflite [-o MODEL.qmodel] [options]

        Reads an int8 TensorFlow Lite model (as the TFLite converter, onnx2tf or Model Maker
        write it), keeps its scales and zero points, derives every requantization multiplier
        from them as TFLite's kernels do, plans the arena and writes the .qmodel. The int8
        runtime then gives the bytes of TFLite's reference kernels (docs/TFLITE.md). No
        calibration: the file is already quantized (a float .tflite goes to `quanta quantize`).

        Read: one subgraph; int8 activations, per-tensor; int8 weights per-tensor or
        per-channel; rank-2 and rank-4 tensors; ADD, AVERAGE_POOL_2D, CONCATENATION (channels),
        CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, HARD_SWISH, LEAKY_RELU, LOGISTIC, MAX_POOL_2D,
        MEAN (over H, W), MUL, PAD, PADV2, RELU, RELU6, RELU_0_TO_1, RELU_N1_TO_1, RESHAPE,
        RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR (integer factors), SPLIT, SPLIT_V and
        STRIDED_SLICE (channel ranges), SQUEEZE, EXPAND_DIMS, SUB, TANH, TRANSPOSE_CONV, TRANSPOSE
        (when it moves no byte), QUANTIZE (int8 → int8, and float → int8 at the input),
        DEQUANTIZE (at the output). Anything else is an error that names the operator.

        options:
          -o, --output FILE   the .qmodel to write (default: MODEL with .qmodel)
          --kernels K         fast | reference   (default: fast; both give the same bits)
          --no-fuse           no fused inverted-residual blocks, no in-place depthwise
          --output-tensors NAMES
                              also make these intermediate tensors (comma-separated TFLite
                              names) outputs, after the model's own: to compare a model
                              layer by layer with another runtime
          --json              print the summary as JSON
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(argv, valued: ["output", "kernels", "output-tensors"], booleans: ["json", "no-fuse"], aliases: ["o": "output"])
        try args.expectPositionals(max: 1)
        let modelPath = try args.positional(0, "MODEL.tflite")
        let output = args.value("output") ?? (modelPath.hasSuffix(".tflite") ? String(modelPath.dropLast(7)) : modelPath) + ".qmodel"
        try FileIO.checkOutput(output, isNot: [("model", modelPath)])
        var kernels = KernelSelection.fast
        if let k = args.value("kernels") {
            guard let value = KernelSelection(rawValue: k) else { throw CLIError.usage("unknown --kernels '\(k)'; expected fast or reference") }
            kernels = value
        }
        let result = try TFLiteImportPipeline.run(
            tflitePath: modelPath, outputPath: output, kernels: kernels,
            memoryPasses: args.flag("no-fuse") ? .none : MemoryPassOptions(),
            extraOutputs: args.value("output-tensors").map { $0.split(separator: ",").map(String.init) } ?? [])
        if args.flag("json") {
            print(result.summary.json())
        } else {
            print(result.summary.text())
            print("wrote \(output)")
        }
    }
}
