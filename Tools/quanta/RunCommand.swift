import Foundation
import QuantaCompiler

/// `quanta run MODEL.qmodel|MODEL.onnx --input X.npy --output Y.npy [--int8]`
enum RunCommand: Command {
    static let name = "run"
    static let summary = "run a .qmodel (int8 runtime) or an .onnx / float .tflite model (float reference) on .npy input"
    static let usage = """
        usage: quanta run MODEL.qmodel --input X.npy --output Y.npy [--int8]
               quanta run MODEL.onnx   --input X.npy --output Y.npy
               quanta run MODEL.tflite --input X.npy --output Y.npy   (a float .tflite)

        X.npy is float32 in the model's original layout (NCHW for ONNX models), either one
        sample (the input's shape) or a batch (N × the input's per-sample shape). Each
        sample is run separately; Y.npy stacks the outputs in the model's original layout.
        For a .qmodel, an int8 X.npy is taken as already quantized: its bytes are the input.

        A .qmodel runs in the int8 runtime: the input is quantized with the model's input
        parameters and the output dequantized to float32 (--int8 writes the raw int8
        output instead). An .onnx model or a float .tflite runs on the float reference kernels.

        options:
          --input FILE     float32 .npy input
          --output FILE    .npy to write (written atomically); a model with several outputs
                           writes output k >= 1 beside it as FILE_k.npy
          --int8           write the raw int8 output (only for .qmodel)
          --input-shape NAME=DIMS   fix a dynamic input shape of an .onnx model (default:
                           dynamic dims are taken from the shape of the --input data)
          --quiet          no note on stderr when more than 1 % of the input values lie
                           outside the .qmodel's input range (they are clipped)
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(argv, valued: ["input", "output", "input-shape"], booleans: ["int8", "quiet"])
        try args.expectPositionals(max: 1)
        let modelPath = try args.positional(0, "MODEL.qmodel or MODEL.onnx")
        let input = try args.require("input")
        let output = try args.require("output")
        try FileIO.checkOutput(output, isNot: [("model", modelPath), ("input", input)])
        if modelPath.hasSuffix(".onnx") || modelPath.hasSuffix(".tflite") {
            if args.flag("int8") { throw CLIError.usage("--int8 applies to .qmodel files only") }
            // Dynamic dims not given with --input-shape come from the input data's shape.
            let shapes = ONNXInputShapes.resolve(
                onnxPath: modelPath, samplePath: input, given: try parseInputShapes(args.value("input-shape")))
            let (n, paths) = try ModelRunner.runFloat(onnxPath: modelPath, inputPath: input, outputPath: output, inputShapes: shapes)
            print("ran \(n) sample(s) on the float reference; wrote \(paths.joined(separator: ", "))")
        } else {
            let (n, note, paths) = try ModelRunner.runQuantized(modelPath: modelPath, inputPath: input, outputPath: output, rawInt8: args.flag("int8"))
            print("ran \(n) sample(s) on the int8 runtime; wrote \(paths.joined(separator: ", "))")
            if let note, !args.flag("quiet") { FileHandle.standardError.write(Data("quanta: \(note)\n".utf8)) }
        }
    }
}
