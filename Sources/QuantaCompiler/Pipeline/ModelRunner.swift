import QuantaKernels
import QuantaRuntime

extension SourceLayout {
    /// The compiler-side layout of a runtime tensor layout.
    public init(_ layout: TensorLayout) {
        switch layout {
        case .nchw: self = .nchw
        case .nc: self = .nc
        case .nhwc: self = .nhwc
        }
    }
}

/// `quanta run`: a model over a batch of `.npy` samples, outputs stacked into one `.npy`
/// in the model's source layout.
public enum ModelRunner {
    /// Runs an ONNX model on the float reference kernels; returns the number of samples.
    @discardableResult
    public static func runFloat(onnxPath: String, inputPath: String, outputPath: String, inputShapes: [String: [Int]] = [:]) throws -> Int {
        let graph = try QuantizePipeline.importGraph(onnxPath: onnxPath, inputShapes: inputShapes)
        let samples = try QuantizePipeline.openSamples(path: inputPath, for: graph)
        let executor = FloatExecutor(graph: graph)
        let output = graph.tensors[graph.outputs[0]]
        var stacked: [Float] = []
        for i in 0..<samples.count {
            let values = try executor.run(inputs: [try samples.sample(i)])[graph.outputs[0]] ?? []
            stacked += LayoutConversion.fromNHWC(values, shape: output.shape, to: output.sourceLayout)
        }
        try write(stacked, shape: output.shape, layout: output.sourceLayout, count: samples.count, to: outputPath)
        return samples.count
    }

    /// Runs a `.qmodel` in the int8 runtime; with `rawInt8` the output is written as int8,
    /// otherwise dequantized to float32. Returns the number of samples.
    @discardableResult
    /// Runs every sample of `inputPath` through the `.qmodel`; writes the outputs. Returns the
    /// sample count and `QuantizedSession.inputClippingNote()` of the run.
    public static func runQuantized(modelPath: String, inputPath: String, outputPath: String, rawInt8: Bool) throws -> (samples: Int, note: String?) {
        let session = try QuantizedSession(bytes: try FileIO.read(modelPath), source: modelPath)
        let input = session.interpreter.input(0)
        let samples = try SampleStream(path: inputPath, shape: input.shape, layout: SourceLayout(input.sourceLayout))
        let output = session.interpreter.output(0)
        let layout = SourceLayout(output.sourceLayout)
        var floats: [Float] = []
        var bytes: [Int8] = []
        for i in 0..<samples.count {
            session.setInput(0, float: try samples.sample(i))
            session.invoke()
            if rawInt8 {
                bytes += LayoutConversion.fromNHWC(session.outputInt8(0), shape: output.shape, to: layout)
            } else {
                floats += LayoutConversion.fromNHWC(session.outputFloat(0), shape: output.shape, to: layout)
            }
        }
        var dims = LayoutConversion.sourceDimensions(output.shape, layout)
        dims[0] *= samples.count
        let array = rawInt8 ? NumPyArray(shape: dims, int8: bytes) : NumPyArray(shape: dims, float32: floats)
        try FileIO.writeAtomically(try NumPy.encode(array, source: outputPath), to: outputPath)
        return (samples.count, session.inputClippingNote())
    }

    private static func write(_ values: [Float], shape: TensorShape, layout: SourceLayout, count: Int, to path: String) throws {
        var dims = LayoutConversion.sourceDimensions(shape, layout)
        dims[0] *= count
        try FileIO.writeAtomically(try NumPy.encode(NumPyArray(shape: dims, float32: values), source: path), to: path)
    }
}
