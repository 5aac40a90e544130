import QuantaKernels

/// Calibration samples from arrays in the source model's layout (as `.npy` files hold them).
public enum CalibrationData {
    /// The dimensions one sample of graph input `tensor` has in the source layout:
    /// NCHW `[n, c, h, w]`, NC `[n, c]` (for `n×1×1×c`), NHWC `[n, h, w, c]`.
    public static func sourceDimensions(_ tensor: GraphTensor) -> [Int] {
        let s = tensor.shape
        switch tensor.sourceLayout {
        case .nchw: return [s.n, s.c, s.h, s.w]
        case .nc: return [s.n, s.c * s.h * s.w]
        case .nhwc: return [s.n, s.h, s.w, s.c]
        }
    }

    /// Splits `arrays` (e.g. `NumPy.readFolder`, or one batch file) into samples for a
    /// single-input graph, converted to NHWC. Each array is one sample of the input's source
    /// dimensions (with or without the leading batch size when it is 1), or a batch of `k`
    /// samples stacked along the first axis (`k * n` there). Values are converted to Float.
    public static func samples(from arrays: [(name: String, array: NumPyArray)], graph: Graph) throws -> [[[Float]]] {
        guard graph.inputs.count == 1 else { throw QuantizationError.multipleInputs(count: graph.inputs.count) }
        let input = graph.tensors[graph.inputs[0]]
        let dims = sourceDimensions(input)
        let perSample = input.shape.elementCount
        var result: [[[Float]]] = []
        for (name, array) in arrays {
            let shape = array.shape
            let batch: Int
            if shape == dims || (dims[0] == 1 && shape == Array(dims.dropFirst())) {
                batch = 1
            } else if shape.count == dims.count, Array(shape.dropFirst()) == Array(dims.dropFirst()), shape[0] > 0, shape[0] % dims[0] == 0 {
                batch = shape[0] / dims[0]
            } else {
                throw QuantizationError.sampleShape(source: name, input: input.name, expected: dims, actual: shape)
            }
            let values = array.floats
            for k in 0..<batch {
                let slice = Array(values[k * perSample..<(k + 1) * perSample])
                result.append([toNHWC(slice, input)])
            }
        }
        if result.isEmpty { throw QuantizationError.noCalibrationSamples }
        return result
    }

    /// One sample in the tensor's source layout, reordered to NHWC.
    public static func toNHWC(_ values: [Float], _ tensor: GraphTensor) -> [Float] {
        guard tensor.sourceLayout == .nchw else { return values }
        let s = tensor.shape
        var out = [Float](repeating: 0, count: values.count)
        for b in 0..<s.n {
            for c in 0..<s.c {
                for y in 0..<s.h {
                    for x in 0..<s.w {
                        out[s.index(b, y, x, c)] = values[((b * s.c + c) * s.h + y) * s.w + x]
                    }
                }
            }
        }
        return out
    }
}
