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
            // A model of fixed batch B takes k·B samples stacked (k inferences).
            let batch = (e.first ?? 1) > 1 ? "a multiple of \(e[0])" : "N"
            return "\(s): shape \(a) does not match the model input \(e) (one sample) or \(batch) × \(Array(e.dropFirst())) (a batch)"
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
    /// and set), kept in file order. (`SampleStream` reads them one at a time instead.)
    public static func load(path: String, shape: TensorShape, layout: SourceLayout, limit: Int = .max, seed: UInt64? = nil) throws -> SampleSet {
        let stream = try SampleStream(path: path, shape: shape, layout: layout, limit: limit, seed: seed)
        return SampleSet(samples: try stream.samples(0..<stream.count), shape: stream.shape, indices: stream.indices)
    }
}
