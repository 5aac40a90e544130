/// A strided view of a tensor read as a dense one: TRANSPOSE (any permutation of rank ≤ 6),
/// STRIDED_SLICE and ONNX Slice (any axes, positive or negative steps), and their
/// combinations. The output, `dims[0] × … × dims[5]` elements in row-major order, takes
///
///     out[i0, …, i5] = in[base + i0·strides[0] + … + i5·strides[5]]
///
/// (strides in elements, any sign). Lower ranks lead with dimensions of 1.
public struct StridedCopyGeometry: Sendable {
    /// The rank of the view.
    public static let rank = 6

    public var dims: InlineArray<6, Int>
    public var strides: InlineArray<6, Int>
    /// The input element read for output element 0.
    public var base: Int

    public init(dims: InlineArray<6, Int>, strides: InlineArray<6, Int>, base: Int) {
        self.dims = dims
        self.strides = strides
        self.base = base
    }

    /// Whether every dimension is in `1...2^24`, every stride and the base within ±2^31,
    /// and every input element the view reads lies in `0 ..< inputCount` (the lowest and
    /// highest offsets are at corners of the view). Computed in 64 bits: never overflows,
    /// also where `Int` is 32 bits (armv7). Every partial offset the copy forms is then an
    /// element's offset, so the copy's `Int` arithmetic cannot overflow either.
    public func reads(within inputCount: Int) -> Bool {
        let limit: Int64 = 1 << 31
        var low = Int64(base), high = Int64(base)
        guard low >= -limit, high <= limit else { return false }
        for a in 0..<Self.rank {
            let d = Int64(dims[a]), s = Int64(strides[a])
            guard d >= 1, d <= 1 << 24, s >= -limit, s <= limit else { return false }
            let reach = (d - 1) * s
            if reach < 0 { low += reach } else { high += reach }
        }
        return low >= 0 && high < Int64(inputCount)
    }
}

extension Layout {
    /// Copies the strided view `geometry` of `input` into `output`, densely (see
    /// `StridedCopyGeometry`). Rows whose last stride is 1 are block copies.
    /// - Precondition: `geometry.reads(within:)` the input's element count; `output` holds
    ///   the product of `geometry.dims` elements and does not overlap the input.
    @_optimize(size)
    public static func stridedCopy<T>(input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, geometry g: StridedCopyGeometry) {
        let d = g.dims, s = g.strides
        let row = d[5]
        var out = output
        for i0 in 0..<d[0] {
            for i1 in 0..<d[1] {
                for i2 in 0..<d[2] {
                    for i3 in 0..<d[3] {
                        for i4 in 0..<d[4] {
                            let from = input + (g.base + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4])
                            if s[5] == 1 {
                                out.update(from: from, count: row)
                            } else {
                                for i5 in 0..<row { out[i5] = from[i5 * s[5]] }
                            }
                            out += row
                        }
                    }
                }
            }
        }
    }
}
