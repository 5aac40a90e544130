/// Int8 1×1 convolution (and the GEMM core of the grouped and im2col kernels) as
///
///     out[p, n] = requantize(foldedBias[n] + Σ_k A[p, k] * W[n, k], channel n)
///     foldedBias[n] = bias[n] - inputZeroPoint * Σ_k W[n, k]
///
/// which equals `Int8Reference.conv2D`'s `bias[n] + Σ_k W[n, k] * (A[p, k] - inputZeroPoint)`
/// exactly: the sums are taken with wrapping Int32 arithmetic, so they agree modulo 2^32,
/// and the reference's sum fits in Int32 (its precondition). Pairs `A[p,k]*W[n,k] +
/// A[p,k+1]*W[n,k+1]` are at most 2·128² in magnitude, so the int16 multiply-add
/// (`vpmaddwd`, `smull`/`smlal`) is exact.
///
/// Packed weights (one block per group, the same bytes on every architecture, built by
/// `PointwiseGEMM.pack` at quantization time), with `kPad = K rounded up to 2` and
/// `nPad = N rounded up to 8`:
///
///     Int32 foldedBias[nPad]          (little-endian, unaligned; 0 past N)
///     Int8  weights[nPad / 8][kPad / 2][8][2]   // [n block][k pair][lane][k parity], 0-padded
///
/// so that one 16-byte load is the pair (k, k+1) of 8 output channels.
public enum PointwiseGEMM {
    /// Rows of A the int16 panel scratch holds, on every architecture (the AVX2 kernel
    /// converts and runs 6 at a time, the portable one 4). Part of the plan's scratch
    /// sizes; fused kernels size their panel from `panelByteCount` too, whatever row count
    /// they pass, so it must not depend on the rows.
    public static let panelRows = 8

    @inlinable
    public static func paddedDepth(_ k: Int) -> Int { (k + 1) & ~1 }

    @inlinable
    public static func paddedColumns(_ n: Int) -> Int { (n + 7) & ~7 }

    /// Bytes of one group's packed block for depth `k` and `n` output channels.
    @inlinable
    public static func packedByteCount(depth k: Int, columns n: Int) -> Int {
        paddedColumns(n) * (4 + paddedDepth(k))
    }

    /// Bytes of the int16 panel scratch the GEMM needs for depth `k`.
    @inlinable
    public static func panelByteCount(depth k: Int) -> Int { panelRows * paddedDepth(k) * 2 }

    /// Packs `n` rows of `k` weights (row `j` at `weights + j * weightRowStride`) and their
    /// bias into the layout above at `destination` (`packedByteCount(depth:columns:)` bytes).
    /// `bias == nil` is zero bias.
    public static func pack(
        weights: UnsafePointer<Int8>, weightRowStride: Int, depth k: Int, columns n: Int,
        bias: UnsafePointer<Int32>?, inputZeroPoint: Int32, into destination: UnsafeMutableRawPointer
    ) {
        let kPad = paddedDepth(k)
        let nPad = paddedColumns(n)
        for j in 0..<nPad {
            var folded: Int32 = 0
            if j < n {
                var sum: Int32 = 0
                for i in 0..<k { sum &+= Int32(weights[j * weightRowStride + i]) }
                folded = (bias?[j] ?? 0) &- inputZeroPoint &* sum
            }
            destination.storeBytes(of: folded.littleEndian, toByteOffset: 4 * j, as: Int32.self)
        }
        let w = (destination + 4 * nPad).assumingMemoryBound(to: Int8.self)
        for block in 0..<(nPad / 8) {
            for pair in 0..<(kPad / 2) {
                for lane in 0..<8 {
                    for parity in 0..<2 {
                        let j = block * 8 + lane
                        let i = pair * 2 + parity
                        let value: Int8 = (j < n && i < k) ? weights[j * weightRowStride + i] : 0
                        w[((block * (kPad / 2) + pair) * 8 + lane) * 2 + parity] = value
                    }
                }
            }
        }
    }

    /// Runs the GEMM with the best kernel compiled for this target (AVX2 on x86_64 builds
    /// with `QUANTA_AVX2`, `sdot` on aarch64 builds with `QUANTA_DOTPROD`, the portable SIMD
    /// kernel elsewhere).
    public static func run(_ g: GEMMOperands) {
        #if arch(x86_64) && QUANTA_AVX2
        runAVX2(g)
        #elseif arch(arm64) && QUANTA_DOTPROD
        runDotProduct(g)
        #else
        runPortable(g)
        #endif
    }

    /// Converts rows `firstRow..<firstRow+count` of A to int16 in the panel (row stride
    /// `kPad` elements, the odd tail element 0).
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) {
        let kPad = paddedDepth(g.depth)
        let k = g.depth
        for r in 0..<count {
            let src = g.a + (firstRow + r) * g.aRowStride
            let dst = g.panel + r * kPad * 2
            var i = 0
            while i + 16 <= k {
                let v = VectorMath.widen(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Int8>.self))
                dst.storeBytes(of: v, toByteOffset: 2 * i, as: SIMD16<Int16>.self)
                i += 16
            }
            while i < k {
                dst.storeBytes(of: Int16(src[i]), toByteOffset: 2 * i, as: Int16.self)
                i += 1
            }
            if k < kPad { dst.storeBytes(of: Int16(0), toByteOffset: 2 * k, as: Int16.self) }
        }
    }

    /// The portable kernel: 4 rows × 8 channels per tile, int8 weights widened to int16 and
    /// multiplied into int32 lanes (NEON `smull`/`smlal`, x86 `vpmulld`), pairs summed at
    /// the end. Exposed so that tests exercise it on every host.
    public static func runPortable(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let kPad = paddedDepth(g.depth)
        let kPairs = kPad / 2
        let nPad = paddedColumns(g.columns)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        let rowBytes = kPad * 2
        var row = 0
        while row < g.rows {
            let rows = min(4, g.rows - row)
            fillPanel(g, firstRow: row, count: rows)
            let panel = UnsafeRawPointer(g.panel)
            let p0 = panel
            let p1 = panel + min(1, rows - 1) * rowBytes
            let p2 = panel + min(2, rows - 1) * rowBytes
            let p3 = panel + min(3, rows - 1) * rowBytes
            for block in 0..<(nPad / 8) {
                let w = weights + block * 8 * kPad
                var a0 = SIMD16<Int32>(), a1 = SIMD16<Int32>(), a2 = SIMD16<Int32>(), a3 = SIMD16<Int32>()
                for pair in 0..<kPairs {
                    let wv = VectorMath.widen(VectorMath.widen(w.loadUnaligned(fromByteOffset: 16 * pair, as: SIMD16<Int8>.self)))
                    a0 &+= wv &* broadcastPair(p0, pair)
                    a1 &+= wv &* broadcastPair(p1, pair)
                    a2 &+= wv &* broadcastPair(p2, pair)
                    a3 &+= wv &* broadcastPair(p3, pair)
                }
                let n0 = block * 8
                let valid = min(8, g.columns - n0)
                let bias = UnsafeRawPointer(g.packed).loadUnaligned(fromByteOffset: 4 * n0, as: SIMD8<Int32>.self)
                let q = RequantizationBlock8(g.requantization, first: g.channelOffset + n0, count: valid)
                let out = g.output + row * g.outputRowStride + n0
                VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a0)), out, count: valid)
                if rows > 1 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a1)), out + g.outputRowStride, count: valid) }
                if rows > 2 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a2)), out + 2 * g.outputRowStride, count: valid) }
                if rows > 3 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a3)), out + 3 * g.outputRowStride, count: valid) }
            }
            row += 4
        }
    }

    /// The int16 pair `(A[r, 2·pair], A[r, 2·pair+1])` repeated over 16 int32 lanes: one
    /// 32-bit broadcast (`ld1r {v.2s}` on aarch64), then the widening that `smlal` folds in.
    @inline(__always) @usableFromInline
    static func broadcastPair(_ row: UnsafeRawPointer, _ pair: Int) -> SIMD16<Int32> {
        let bits = row.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self)
        return VectorMath.widen(unsafeBitCast(SIMD8<Int32>(repeating: bits), to: SIMD16<Int16>.self))
    }
}

/// The operands of one int8 GEMM `out[p, n] = requantize(foldedBias[n] + Σ_k A[p,k] W[n,k])`
/// for `p < rows`, `n < columns`, `k < depth`.
///
/// - `a`: row `p` at `a + p * aRowStride`, `depth` int8 values (a pixel's channels, a
///   group's slice of them, or an im2col row).
/// - `packed`: one group's block in `PointwiseGEMM`'s packed layout.
/// - `output`: row `p` at `output + p * outputRowStride`, `columns` int8 values.
/// - `requantization`: channel `n` of this GEMM uses the parameters of `channelOffset + n`.
/// - `panel`: `PointwiseGEMM.panelByteCount(depth:)` bytes of scratch, any alignment.
/// `output` does not overlap `a` or `panel`.
@frozen
public struct GEMMOperands {
    public var rows: Int
    public var depth: Int
    public var columns: Int
    public var a: UnsafePointer<Int8>
    public var aRowStride: Int
    public var packed: UnsafeRawPointer
    public var output: UnsafeMutablePointer<Int8>
    public var outputRowStride: Int
    public var requantization: Requantization
    public var channelOffset: Int
    public var panel: UnsafeMutableRawPointer

    @inlinable
    public init(
        rows: Int, depth: Int, columns: Int, a: UnsafePointer<Int8>, aRowStride: Int,
        packed: UnsafeRawPointer, output: UnsafeMutablePointer<Int8>, outputRowStride: Int,
        requantization: Requantization, channelOffset: Int = 0, panel: UnsafeMutableRawPointer
    ) {
        self.rows = rows
        self.depth = depth
        self.columns = columns
        self.a = a
        self.aRowStride = aRowStride
        self.packed = packed
        self.output = output
        self.outputRowStride = outputRowStride
        self.requantization = requantization
        self.channelOffset = channelOffset
        self.panel = panel
    }
}
