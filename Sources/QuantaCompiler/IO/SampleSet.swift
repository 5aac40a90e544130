import Foundation
import QuantaKernels

/// Input data that does not fit the model it is meant for.
public enum SampleError: Error, Equatable, CustomStringConvertible {
    case wrongShape(source: String, expected: [Int], actual: [Int])
    case wrongDType(source: String, dtype: String)
    case empty(source: String)
    case notFinite(source: String, sample: Int, index: Int)
    case multipleInputs(count: Int)

    public var description: String {
        switch self {
        case .wrongShape(let s, let e, let a):
            return "\(s): shape \(a) does not match the model input \(e) (one sample) or N × \(Array(e.dropFirst())) (a batch)"
        case .wrongDType(let s, let d): return "\(s): dtype \(d) is not float; expected float32"
        case .empty(let s): return "\(s): no samples"
        case .notFinite(let s, let sample, let index): return "\(s): sample \(sample) has a NaN or infinite value at element \(index)"
        case .multipleInputs(let n): return "the model has \(n) inputs; .npy data can feed models with one input only"
        }
    }
}

/// Layout conversions between a source model's layout and Quanta's NHWC.
public enum LayoutConversion {
    /// The source-layout dimensions of an NHWC tensor: `[N, C, H, W]` for `.nchw`,
    /// `[N, C]` for `.nc`, `[N, H, W, C]` for `.nhwc`.
    public static func sourceDimensions(_ shape: TensorShape, _ layout: SourceLayout) -> [Int] {
        switch layout {
        case .nchw: return [shape.n, shape.c, shape.h, shape.w]
        case .nc: return [shape.n, shape.h * shape.w * shape.c]
        case .nhwc: return [shape.n, shape.h, shape.w, shape.c]
        }
    }

    /// Reorders one tensor from its source layout to NHWC.
    public static func toNHWC<T>(_ values: [T], shape: TensorShape, from layout: SourceLayout) -> [T] {
        guard layout == .nchw, shape.h * shape.w > 1, shape.c > 1 else { return values }
        var out = values
        let hw = shape.h * shape.w
        for n in 0..<shape.n {
            for c in 0..<shape.c {
                for p in 0..<hw { out[(n * hw + p) * shape.c + c] = values[(n * shape.c + c) * hw + p] }
            }
        }
        return out
    }

    /// Reorders one NHWC tensor to its source layout.
    public static func fromNHWC<T>(_ values: [T], shape: TensorShape, to layout: SourceLayout) -> [T] {
        guard layout == .nchw, shape.h * shape.w > 1, shape.c > 1 else { return values }
        var out = values
        let hw = shape.h * shape.w
        for n in 0..<shape.n {
            for c in 0..<shape.c {
                for p in 0..<hw { out[(n * shape.c + c) * hw + p] = values[(n * hw + p) * shape.c + c] }
            }
        }
        return out
    }
}

/// Samples for a model with one input: loaded from a `.npy` batch (`N ×` the input's
/// per-sample source shape, or exactly the input's shape for one sample) or a folder of
/// `.npy` files (one sample or batch each, in name order), converted to NHWC.
public struct SampleSet {
    /// Each sample in NHWC order, `shape.elementCount` values.
    public var samples: [[Float]]
    /// The model input's NHWC shape (batch 1 per sample).
    public var shape: TensorShape
    /// Each sample's position in the whole set (0, 1, 2, ... unless a seeded subset was
    /// chosen): where its label is.
    public var indices: [Int]

    public init(samples: [[Float]], shape: TensorShape, indices: [Int]? = nil) {
        self.samples = samples
        self.shape = shape
        self.indices = indices ?? Array(samples.indices)
    }

    /// Loads `path` for an input of NHWC `shape` laid out as `layout` in the source model.
    /// Rejects non-float dtypes, wrong shapes, empty sets and non-finite values.
    /// At most `limit` samples: the first ones, or with a `seed` that many chosen uniformly
    /// from the whole set by a generator seeded with it (the same subset for the same seed
    /// and set), kept in file order.
    public static func load(path: String, shape: TensorShape, layout: SourceLayout, limit: Int = .max, seed: UInt64? = nil) throws -> SampleSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FileError.notFound(path: path) }
        var arrays: [(String, NumPyArray)] = []
        if isDirectory.boolValue {
            arrays = try NumPy.readFolder(path).map { (path + "/" + $0.name, $0.array) }
        } else {
            arrays = [(path, try NumPy.read(path))]
        }
        var one = shape
        one.n = 1
        let sampleDims = LayoutConversion.sourceDimensions(one, layout)
        var samples: [[Float]] = []
        // Which samples (array, index in it) to take.
        var counts: [Int] = []
        for (source, array) in arrays {
            switch array.dtype {
            case .float32, .float64: break
            default: throw SampleError.wrongDType(source: source, dtype: array.dtype.rawValue)
            }
            if array.shape == sampleDims || array.shape == Array(sampleDims.dropFirst()) {
                counts.append(1)
            } else if array.shape.count == sampleDims.count, Array(array.shape.dropFirst()) == Array(sampleDims.dropFirst()) {
                counts.append(array.shape[0])
            } else {
                throw SampleError.wrongShape(source: source, expected: sampleDims, actual: array.shape)
            }
        }
        let total = counts.reduce(0, +)
        var chosen: Set<Int>? = nil
        if let seed, limit < total {
            // Fisher–Yates with our own generator: the same subset on every platform.
            var generator = SeededSampleGenerator(seed: seed)
            var order = Array(0..<total)
            for i in stride(from: total - 1, to: 0, by: -1) {
                order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            chosen = Set(order.prefix(max(0, limit)))
        }
        var flat = 0
        var indices: [Int] = []
        for ((source, array), count) in zip(arrays, counts) {
            let values = array.floats
            let size = one.elementCount
            for s in 0..<count where samples.count < limit {
                defer { flat += 1 }
                if let chosen, !chosen.contains(flat) { continue }
                let slice = Array(values[(s * size)..<((s + 1) * size)])
                if let bad = slice.firstIndex(where: { !$0.isFinite }) {
                    throw SampleError.notFinite(source: source, sample: s, index: bad)
                }
                samples.append(LayoutConversion.toNHWC(slice, shape: one, from: layout))
                indices.append(flat)
            }
        }
        guard !samples.isEmpty else { throw SampleError.empty(source: path) }
        return SampleSet(samples: samples, shape: one, indices: indices)
    }
}

/// SplitMix64: the seeded generator of `SampleSet.load(..., seed:)`.
struct SeededSampleGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
