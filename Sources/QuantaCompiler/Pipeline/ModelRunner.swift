import Foundation
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
    /// Where output `k` of a run with `--output path` goes: output 0 to `path`, output
    /// k ≥ 1 beside it as `STEM_k.npy` (every output of a multi-output model is written).
    public static func outputPath(_ path: String, output k: Int) -> String {
        guard k > 0 else { return path }
        let stem = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        return "\(stem)_\(k).npy"
    }

    /// Runs an ONNX model on the float reference kernels; writes every graph output
    /// (`outputPath(_:output:)`). Returns the number of samples and the paths written.
    @discardableResult
    public static func runFloat(onnxPath: String, inputPath: String, outputPath path: String, inputShapes: [String: [Int]] = [:]) throws -> (samples: Int, paths: [String]) {
        let graph = try QuantizePipeline.importGraph(onnxPath: onnxPath, inputShapes: inputShapes)
        let samples = try QuantizePipeline.openSamples(path: inputPath, for: graph)
        let executor = FloatExecutor(graph: graph)
        var stacked = [[Float]](repeating: [], count: graph.outputs.count)
        for i in 0..<samples.count {
            let values = try executor.run(inputs: [try samples.sample(i)])
            for (k, t) in graph.outputs.enumerated() {
                let output = graph.tensors[t]
                stacked[k] += LayoutConversion.fromNHWC(values[t] ?? [], shape: output.shape, to: output.sourceLayout)
            }
        }
        var paths: [String] = []
        for k in graph.outputs.indices {
            try FileIO.checkOutput(outputPath(path, output: k), isNot: [("model", onnxPath), ("input", inputPath)])
        }
        for (k, t) in graph.outputs.enumerated() {
            let output = graph.tensors[t]
            var dims = LayoutConversion.sourceDimensions(output.shape, output.sourceLayout)
            dims[0] *= samples.count
            let target = outputPath(path, output: k)
            try FileIO.writeAtomically(try NumPy.encode(NumPyArray(shape: dims, float32: stacked[k]), source: target), to: target)
            paths.append(target)
        }
        return (samples.count, paths)
    }

    /// Runs every sample of `inputPath` through the `.qmodel`; writes every output
    /// (`outputPath(_:output:)`), as int8 with `rawInt8`, else dequantized to float32.
    /// Returns the sample count, `QuantizedSession.inputClippingNote()` and the paths written.
    public static func runQuantized(modelPath: String, inputPath: String, outputPath path: String, rawInt8: Bool) throws -> (samples: Int, note: String?, paths: [String]) {
        let session = try QuantizedSession(bytes: try FileIO.read(modelPath), source: modelPath)
        let input = session.interpreter.input(0)
        let layout = SourceLayout(input.sourceLayout)
        // An int8 .npy is already quantized: its bytes go in as they are (no float step).
        let int8Samples = try int8Input(path: inputPath, shape: input.shape, layout: layout)
        let samples = int8Samples == nil ? try SampleStream(path: inputPath, shape: input.shape, layout: layout) : nil
        let sampleCount = int8Samples?.count ?? samples?.count ?? 0
        let outputs = (0..<session.model.outputCount).map { session.interpreter.output($0) }
        var floats = [[Float]](repeating: [], count: outputs.count)
        var bytes = [[Int8]](repeating: [], count: outputs.count)
        for i in 0..<sampleCount {
            if let int8Samples {
                session.setInput(0, int8: int8Samples[i])
            } else if let samples {
                session.setInput(0, float: try samples.sample(i))
            }
            session.invoke()
            for (k, output) in outputs.enumerated() {
                let layout = SourceLayout(output.sourceLayout)
                if rawInt8 {
                    bytes[k] += LayoutConversion.fromNHWC(session.outputInt8(k), shape: output.shape, to: layout)
                } else {
                    floats[k] += LayoutConversion.fromNHWC(session.outputFloat(k), shape: output.shape, to: layout)
                }
            }
        }
        var paths: [String] = []
        for k in outputs.indices {
            try FileIO.checkOutput(outputPath(path, output: k), isNot: [("model", modelPath), ("input", inputPath)])
        }
        for (k, output) in outputs.enumerated() {
            var dims = LayoutConversion.sourceDimensions(output.shape, SourceLayout(output.sourceLayout))
            dims[0] *= sampleCount
            let array = rawInt8 ? NumPyArray(shape: dims, int8: bytes[k]) : NumPyArray(shape: dims, float32: floats[k])
            let target = outputPath(path, output: k)
            try FileIO.writeAtomically(try NumPy.encode(array, source: target), to: target)
            paths.append(target)
        }
        return (sampleCount, session.inputClippingNote(), paths)
    }

    /// The samples of an int8 `.npy` file for an input of NHWC `shape` (one sample of the
    /// input's source-layout shape, or N of them stacked), each converted to NHWC; nil when
    /// the file is not int8 (then it is read as float samples).
    static func int8Input(path: String, shape: TensorShape, layout: SourceLayout) throws -> [[Int8]]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              try NumPy.layout(path: path).header.dtype == .int8 else { return nil }
        let array = try NumPy.decode(try FileIO.read(path), source: path)
        guard case .int8(let values) = array.elements else { return nil }
        let dims = LayoutConversion.sourceDimensions(shape, layout)
        let per = shape.elementCount
        let sameBytes = layout == .nhwc && array.shape.filter { $0 != 1 } == dims.filter { $0 != 1 }
        guard per > 0, sameBytes || (array.shape.count == dims.count && Array(array.shape.dropFirst()) == Array(dims.dropFirst())),
              values.count % per == 0, !values.isEmpty else {
            throw SampleError.wrongShape(source: path, expected: dims, actual: array.shape)
        }
        return (0..<(values.count / per)).map { i in
            LayoutConversion.toNHWC(Array(values[(i * per)..<((i + 1) * per)]), shape: shape, from: layout)
        }
    }
}
