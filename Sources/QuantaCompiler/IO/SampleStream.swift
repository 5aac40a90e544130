import Foundation
import QuantaKernels

/// The samples of a `.npy` batch file or a folder of `.npy` files, read one at a time from
/// disk: only each file's header is read up front (shapes and dtypes checked, as
/// `SampleSet.load`), and a sample's bytes when it is asked for. Memory does not grow with
/// the number of samples. Same files, subsets (`limit`, `seed`), errors and values as
/// `SampleSet.load`, which reads a stream whole.
public final class SampleStream {
    /// The model input's NHWC shape: one sample (a model with a fixed batch of B takes B
    /// items per sample).
    public let shape: TensorShape
    /// Samples in the stream (after `limit`).
    public let count: Int
    /// Each sample's position in the whole set (where its label is).
    public let indices: [Int]

    private struct File {
        var path: String
        var layout: NumPyLayout
        var first: Int  // flat position of its first sample
        var count: Int
    }
    private let files: [File]
    private let sourceLayout: SourceLayout
    private var handle: (path: String, handle: FileHandle)?

    deinit { try? handle?.handle.close() }

    /// Opens `path` for an input of NHWC `shape` laid out as `layout` in the source model.
    /// At most `limit` samples: the first ones, or with a `seed` that many chosen from the
    /// whole set (see `SampleSet.load`).
    public init(path: String, shape: TensorShape, layout: SourceLayout, limit: Int = .max, seed: UInt64? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FileError.notFound(path: path) }
        let paths = isDirectory.boolValue ? try NumPy.folderEntries(path).map { path + "/" + $0 } : [path]
        // One sample is the model input's whole shape: a model with a fixed batch of B takes
        // B items per sample (a file of exactly that shape is one sample; of K·B items, K).
        let one = shape
        let batch = max(1, shape.n)
        let sampleDims = LayoutConversion.sourceDimensions(one, layout)
        var files: [File] = []
        var total = 0
        for p in paths {
            let l = try NumPy.layout(path: p)
            switch l.header.dtype {
            case .float32, .float64: break
            default: throw SampleError.wrongDType(source: p, dtype: l.header.dtype.rawValue)
            }
            let count: Int
            if l.header.shape == sampleDims || (batch == 1 && l.header.shape == Array(sampleDims.dropFirst()))
                || (layout == .nhwc && l.header.shape.filter { $0 != 1 } == sampleDims.filter { $0 != 1 }) {
                // (An input held in its source order, e.g. ONNX [3, 4, 5] held as 3×1×4×5,
                // reads the same bytes whatever dimensions of 1 the file adds or drops.)
                count = 1
            } else if l.header.shape.count == sampleDims.count, Array(l.header.shape.dropFirst()) == Array(sampleDims.dropFirst()),
                      l.header.shape[0] % batch == 0 {
                count = l.header.shape[0] / batch
            } else {
                throw SampleError.wrongShape(source: p, expected: sampleDims, actual: l.header.shape)
            }
            files.append(File(path: p, layout: l, first: total, count: count))
            total += count
        }
        var chosen: [Int]
        if let seed, limit < total {
            // Fisher–Yates with our own generator: the same subset on every platform.
            var generator = SplitMix64(seed: seed)
            var order = Array(0..<total)
            for i in stride(from: total - 1, to: 0, by: -1) {
                order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            chosen = Array(order.prefix(max(0, limit))).sorted()
        } else {
            chosen = Array(0..<min(total, max(0, limit)))
        }
        guard !chosen.isEmpty else { throw SampleError.empty(source: path) }
        self.shape = one
        self.count = chosen.count
        self.indices = chosen
        self.files = files
        self.sourceLayout = layout
    }

    /// Sample `i` (`0 ..< count`) in NHWC order; `SampleError.notFinite` names its file
    /// and its index in that file.
    public func sample(_ i: Int) throws -> [Float] {
        precondition(i >= 0 && i < count, "SampleStream: sample \(i) of \(count)")
        let flat = indices[i]
        var k = 0
        while files[k].first + files[k].count <= flat { k += 1 }
        let file = files[k], s = flat - file.first
        let size = shape.elementCount, itemSize = file.layout.header.dtype.size
        let handle = try open(file.path)
        let offset = file.layout.dataOffset + s * size * itemSize
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(offset))
            data = try handle.read(upToCount: size * itemSize) ?? Data()
        } catch {
            throw FileError.unreadable(path: file.path, reason: "I/O error")
        }
        guard data.count == size * itemSize else { throw FileError.unreadable(path: file.path, reason: "the file shrank while reading") }
        let values: [Float] = data.withUnsafeBytes { raw in
            if file.layout.header.dtype == .float32 {
                return (0..<size).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            return (0..<size).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw SampleError.notFinite(source: file.path, sample: s, index: bad)
        }
        return LayoutConversion.toNHWC(values, shape: shape, from: sourceLayout)
    }

    /// Samples `range` in order.
    public func samples(_ range: Range<Int>) throws -> [[Float]] {
        try range.map { try sample($0) }
    }

    private func open(_ path: String) throws -> FileHandle {
        if let h = handle, h.path == path { return h.handle }
        try? handle?.handle.close()
        handle = nil
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw FileError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        handle = (path, h)
        return h
    }
}
