import Foundation

/// Fills in the dynamic dimensions of a model's input from the data that will feed it.
///
/// Exporters leave batch, height and width symbolic (`N`, `height`, `p2o.DynamicDimension.0`,
/// `-1`, or empty: paddle2onnx writes `[-1, 3, ?, ?]`). The batch resolves to 1 by itself;
/// the others need a shape, which `quanta quantize` and `quanta eval` take from
/// `--input-shape NAME=1x3x48x192` or, when that is not given, from the `.npy` sample data.
public enum ONNXInputShapes {
    /// `given`, plus, for the model's single graph input when it has a dynamic dimension
    /// other than the batch and no entry in `given`, the shape of one sample of the `.npy`
    /// file (or the first `.npy` file of the folder) at `samplePath`: `[1] + shape[1...]`
    /// when the data has the input's rank (a batch), `[1] + shape` when it has one less (a
    /// single sample). Declared fixed dimensions must agree with the data; when they do not,
    /// nothing is added and import reports the dimension it cannot resolve. A model or data
    /// file that cannot be read adds nothing either: import and sample loading report it.
    public static func resolve(onnxPath: String, samplePath: String?, given: [String: [Int]]) -> [String: [Int]] {
        guard let samplePath, let bytes = try? FileIO.read(onnxPath), let model = try? ONNXModelProto(bytes: bytes),
            let graph = model.graph
        else { return given }
        let initializers = Set(graph.initializers.map { $0.name })
        let inputs = graph.inputs.filter { !initializers.contains($0.name) }
        guard inputs.count == 1, let input = inputs.first, given[input.name] == nil, let declared = input.shape else { return given }
        let isDynamic = declared.dropFirst().contains { d in
            if case .value(let v) = d { return v <= 0 }
            return true
        }
        guard isDynamic, let dataShape = sampleShape(samplePath) else { return given }
        var shape: [Int]
        if dataShape.count == declared.count {
            shape = [1] + dataShape.dropFirst()
        } else if dataShape.count + 1 == declared.count {
            shape = [1] + dataShape
        } else {
            return given
        }
        for (axis, d) in declared.enumerated() where axis > 0 {
            if case .value(let v) = d, v > 0, Int(v) != shape[axis] { return given }
        }
        if case .value(let v) = declared[0], v > 0 { shape[0] = Int(v) }
        var result = given
        result[input.name] = shape
        return result
    }

    /// The shape of the `.npy` file at `path`, or of the first `.npy` file in the folder.
    static func sampleShape(_ path: String) -> [Int]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard let first = names.filter({ $0.hasSuffix(".npy") && !$0.hasPrefix(".") })
                .sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).first
            else { return nil }
            return (try? NumPy.read((path as NSString).appendingPathComponent(first)))?.shape
        }
        return (try? NumPy.read(path))?.shape
    }
}
