import QuantaKernels

/// A strided view of a row-major tensor: output element `(i_0, …, i_{r-1})` (row-major over
/// `dims`) is input element `base + Σ i_a · strides[a]` (strides in elements, any sign).
/// TRANSPOSE, STRIDED_SLICE and Slice with steps are views; the int8 runtime and the float
/// executor copy them with `Layout.stridedCopy`.
public struct StridedView: Equatable, Sendable {
    public var dims: [Int]
    public var strides: [Int]
    public var base: Int

    public init(dims: [Int], strides: [Int], base: Int) {
        self.dims = dims
        self.strides = strides
        self.base = base
    }

    /// Row-major element strides of a tensor of `shape`.
    public static func denseStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for a in shape.indices.reversed().dropFirst() { strides[a] = strides[a + 1] * shape[a + 1] }
        return strides
    }

    /// The transpose of a tensor of `shape`: output axis `k` is input axis `permutation[k]`.
    /// - Precondition: `permutation` is a permutation of `shape.indices`.
    public static func transpose(shape: [Int], permutation: [Int]) -> StridedView {
        let dense = denseStrides(shape)
        return StridedView(dims: permutation.map { shape[$0] }, strides: permutation.map { dense[$0] }, base: 0)
    }

    /// A slice of a tensor of `shape`: output axis `a` takes `count[a]` elements of input
    /// axis `a`, from `start[a]` by `step[a]` (any sign).
    public static func slice(shape: [Int], start: [Int], step: [Int], count: [Int]) -> StridedView {
        let dense = denseStrides(shape)
        var base = 0
        for a in shape.indices { base += start[a] * dense[a] }
        return StridedView(dims: count, strides: zip(dense, step).map { $0 * $1 }, base: base)
    }

    /// The number of elements the view yields.
    public var elementCount: Int { dims.reduce(1, *) }

    /// The same copy with axes of size 1 dropped and neighbouring axes merged where one
    /// continues the other (`strides[a] == strides[a+1]·dims[a+1]`), so that the copy's
    /// rows are as long as the layout allows. An empty `dims` is a single element.
    public var normalized: StridedView {
        var d: [Int] = [], s: [Int] = []
        for (size, stride) in zip(dims, strides) where size != 1 {
            if let lastSize = d.last, let lastStride = s.last, lastStride == stride * size {
                d[d.count - 1] = lastSize * size
                s[s.count - 1] = stride
            } else {
                d.append(size)
                s.append(stride)
            }
        }
        return StridedView(dims: d, strides: s, base: base)
    }

    /// Whether the view reads all `inputCount` elements of its input in order: the copy is
    /// the same bytes (a reshape).
    public func isIdentity(inputCount: Int) -> Bool {
        let n = normalized
        return n.base == 0 && elementCount == inputCount && (n.dims.isEmpty || (n.dims.count == 1 && n.strides[0] == 1))
    }

    /// The kernel's geometry (of `normalized`, leading axes of 1), nil with more than
    /// `StridedCopyGeometry.rank` axes left.
    public var geometry: StridedCopyGeometry? {
        let n = normalized
        let rank = StridedCopyGeometry.rank
        guard n.dims.count <= rank else { return nil }
        var g = StridedCopyGeometry(dims: .init(repeating: 1), strides: .init(repeating: 0), base: n.base)
        for (k, a) in (rank - n.dims.count..<rank).enumerated() {
            g.dims[a] = n.dims[k]
            g.strides[a] = n.strides[k]
        }
        return g
    }

    /// The 13 words of a `strided_copy` op record: dims, strides, base.
    public var words: [Int]? {
        guard let g = geometry else { return nil }
        let rank = StridedCopyGeometry.rank
        return (0..<rank).map { g.dims[$0] } + (0..<rank).map { g.strides[$0] } + [g.base]
    }
}
