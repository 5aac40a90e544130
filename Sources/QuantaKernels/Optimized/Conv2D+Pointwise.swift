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
    /// Byte budget of the int16 panel: `panelRows(depth:)` rows of `2 · kPad` bytes fit in it
    /// (a deep GEMM still gets `minimumPanelRows`).
    public static let panelBudgetBytes = 6144
    /// Fewest and most rows of A one panel holds (multiples of the AVX2 tile height 6).
    public static let minimumPanelRows = 6
    public static let maximumPanelRows = 48

    /// Rows of A the int16 panel scratch holds for depth `k`, on every architecture: as many
    /// multiples of 6 as fit `panelBudgetBytes`, within `minimumPanelRows...maximumPanelRows`
    /// (48 rows up to K = 64, 30 at K = 96, 6 from K = 513). A function of the depth only: it
    /// is part of the plan's scratch sizes (model format), and fused kernels size their panel
    /// from `panelByteCount` whatever row count they pass. The kernels convert a whole panel
    /// to int16 at once and prepare each column block's output stage once per panel.
    @inlinable
    public static func panelRows(depth k: Int) -> Int {
        Int(panelRows(depth: Int64(k)))
    }

    /// `panelRows(depth:)` for a depth given as Int64 (no overflow for any depth ≥ 1 up to
    /// `Int32.max`, also where `Int` has 32 bits).
    @inlinable
    public static func panelRows(depth k: Int64) -> Int64 {
        let rowBytes = ((k + 1) & ~1) * 2
        let fit = Int64(panelBudgetBytes) / Swift.max(rowBytes, 1) / 6 * 6
        return Swift.max(Int64(minimumPanelRows), Swift.min(Int64(maximumPanelRows), fit))
    }

    @inlinable
    public static func paddedDepth(_ k: Int) -> Int { (k + 1) & ~1 }

    @inlinable
    public static func paddedColumns(_ n: Int) -> Int { (n + 7) & ~7 }

    /// Bytes of one group's packed block for depth `k` and `n` output channels.
    @inlinable
    public static func packedByteCount(depth k: Int, columns n: Int) -> Int {
        paddedColumns(n) * (4 + paddedDepth(k))
    }

    /// Bytes of the int16 panel scratch the GEMM needs for depth `k`, any row count.
    @inlinable
    public static func panelByteCount(depth k: Int) -> Int { panelRows(depth: k) * paddedDepth(k) * 2 }

    /// Bytes of the int16 panel scratch for calls of at most `rows` rows: a call converts
    /// `min(panelRows(depth:), rows)` rows at a time, so small maps (and the row-at-a-time
    /// fused blocks) need only that many rows of panel.
    @inlinable
    public static func panelByteCount(depth k: Int, rows: Int) -> Int {
        Swift.min(panelRows(depth: k), Swift.max(rows, 1)) * paddedDepth(k) * 2
    }

    /// Packs `n` rows of `k` weights (row `j` at `weights + j * weightRowStride`) and their
    /// bias into the layout above at `destination` (`packedByteCount(depth:columns:)` bytes).
    /// `bias == nil` is zero bias.
    @_optimize(size)  // load-time / quantization-time code: flash over speed
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

    /// Runs the GEMM with the best kernel for this target and CPU: AVX2 on x86_64 builds
    /// with `QUANTA_AVX2`; on aarch64 and armv7 the NEON kernels of CQuantaKernels
    /// (`runNEON`: `sdot` where the CPU has the dot product, read at run time, else
    /// `smull`/`smlal`/`sadalp`); the portable SIMD kernel elsewhere.
    /// - Precondition: on ARM, no packed weight is -128 (`firstMinimumWeight` is nil; the
    ///   loader checks every file, the quantizer writes -127...127).
    public static func run(_ g: GEMMOperands) {
        precondition(!g.panelFilled || (readsInt16Panel && g.rows <= panelRows(depth: g.depth)),
                     "PointwiseGEMM: a filled panel needs a kernel that reads it and at most panelRows rows")
        #if arch(x86_64)
        if runVNNI(g) { return }
        #endif
        #if arch(x86_64) && QUANTA_AVX2
        runAVX2(g)
        #elseif arch(arm64) || arch(arm)
        runNEON(g)
        #else
        runPortable(g)
        #endif
    }

    /// The GEMM without scratch: reads A's rows where they lie (`g.panel` is not used). AVX2
    /// on x86_64 (`runDirectAVX2`: each k-pair of A widened as it is broadcast), the NEON
    /// kernels on ARM (which read A in place anyway; the `sdot` kernel zips each block's
    /// weights in its loop instead of once), `runDirectPortable` elsewhere. Same results as
    /// `run` and `Int8Reference.conv2D`.
    /// - Precondition: even depth; on ARM no packed weight is -128 (as `run`).
    public static func runDirect(_ g: GEMMOperands) {
        precondition(g.depth % 2 == 0, "PointwiseGEMM.runDirect: odd depth")
        #if arch(x86_64)
        if runVNNI(g) { return }
        #endif
        #if arch(x86_64) && QUANTA_AVX2
        runDirectAVX2(g)
        #elseif arch(arm64) || arch(arm)
        runNEONDirect(g)
        #else
        runDirectPortable(g)
        #endif
    }

    /// Whether the kernel `run` picks on this target reads A from the int16 panel (AVX2 and
    /// portable kernels; the NEON kernels read the int8 rows where they lie): then a caller
    /// may write the panel itself (`widenRow`) and pass `GEMMOperands.panelFilled`.
    public static var readsInt16Panel: Bool {
        #if arch(arm64) || arch(arm)
        false
        #else
        true
        #endif
    }

    /// The first output channel of a packed block (`columns` channels of depth `depth`)
    /// with a weight of -128, nil when every weight is in -127...127 (the int8 weight range
    /// of the quantizer and of TFLite's specification). The NEON kernel sums two products
    /// in an int16 lane, exact only without -128 weights; the loader rejects such blocks.
    @_optimize(size)
    public static func firstMinimumWeight(_ packed: UnsafeRawPointer, depth k: Int, columns n: Int) -> Int? {
        let kPad = paddedDepth(k)
        let w = (packed + 4 * paddedColumns(n)).assumingMemoryBound(to: Int8.self)
        for i in 0..<(paddedColumns(n) * kPad) where w[i] == Int8.min {
            return i / (8 * kPad) * 8 + i / 2 % 8
        }
        return nil
    }

    /// Converts rows `firstRow..<firstRow+count` of A to int16 in the panel (`widenRow`),
    /// unless the caller filled it (`g.panelFilled`, all rows in one panel).
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) {
        if g.panelFilled { return }  // all rows in one panel (`run` checks it)
        let rowBytes = paddedDepth(g.depth) * 2
        for r in 0..<count {
            widenRow(g.a + (firstRow + r) * g.aRowStride, depth: g.depth, into: g.panel! + r * rowBytes)
        }
    }

    /// One row of A (`depth` int8 at `source`) as a panel row: `depth` int16 at `dst`, then a 0
    /// when the depth is odd (`paddedDepth(depth)` elements in all). Reads exactly the `depth`
    /// bytes: a tail shorter than a vector is converted by an overlapping vector ending at the
    /// last byte.
    @inline(__always) @usableFromInline
    static func widenRow(_ source: UnsafePointer<Int8>, depth k: Int, into dst: UnsafeMutableRawPointer) {
        let kPad = paddedDepth(k)
        let src = UnsafeRawPointer(source)
        if k >= 16 {
            var i = 0
            while i + 16 <= k {
                dst.storeBytes(of: VectorMath.widen(src.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self)),
                               toByteOffset: 2 * i, as: SIMD16<Int16>.self)
                i += 16
            }
            if i < k {
                dst.storeBytes(of: VectorMath.widen(src.loadUnaligned(fromByteOffset: k - 16, as: SIMD16<Int8>.self)),
                               toByteOffset: 2 * (k - 16), as: SIMD16<Int16>.self)
            }
        } else if k >= 8 {
            dst.storeBytes(of: VectorMath.widen8to16(src.loadUnaligned(as: SIMD8<Int8>.self)), as: SIMD8<Int16>.self)
            dst.storeBytes(of: VectorMath.widen8to16(src.loadUnaligned(fromByteOffset: k - 8, as: SIMD8<Int8>.self)),
                           toByteOffset: 2 * (k - 8), as: SIMD8<Int16>.self)
        } else {
            for i in 0..<k {
                dst.storeBytes(of: Int16(src.load(fromByteOffset: i, as: Int8.self)), toByteOffset: 2 * i, as: Int16.self)
            }
        }
        if k < kPad { dst.storeBytes(of: Int16(0), toByteOffset: 2 * k, as: Int16.self) }
    }

    /// `widenRow` of three window rows of `n` bytes (8...16), `rowStride` apart in the input,
    /// back to back (depth `3n`): all six 8-byte loads (head and tail of each row) before
    /// the stores, as `Im2col.copyThreeRows`, each widened straight into the panel row.
    @inline(__always) @usableFromInline
    static func widenThreeRows(_ src: UnsafePointer<Int8>, _ rowStride: Int, _ n: Int, into dst: UnsafeMutableRawPointer) {
        let s0 = UnsafeRawPointer(src), s1 = s0 + rowStride, s2 = s1 + rowStride
        let h0 = s0.loadUnaligned(as: SIMD8<Int8>.self), t0 = s0.loadUnaligned(fromByteOffset: n &- 8, as: SIMD8<Int8>.self)
        let h1 = s1.loadUnaligned(as: SIMD8<Int8>.self), t1 = s1.loadUnaligned(fromByteOffset: n &- 8, as: SIMD8<Int8>.self)
        let h2 = s2.loadUnaligned(as: SIMD8<Int8>.self), t2 = s2.loadUnaligned(fromByteOffset: n &- 8, as: SIMD8<Int8>.self)
        dst.storeBytes(of: VectorMath.widen8to16(h0), as: SIMD8<Int16>.self)
        dst.storeBytes(of: VectorMath.widen8to16(t0), toByteOffset: 2 &* (n &- 8), as: SIMD8<Int16>.self)
        dst.storeBytes(of: VectorMath.widen8to16(h1), toByteOffset: 2 &* n, as: SIMD8<Int16>.self)
        dst.storeBytes(of: VectorMath.widen8to16(t1), toByteOffset: 2 &* (2 &* n &- 8), as: SIMD8<Int16>.self)
        dst.storeBytes(of: VectorMath.widen8to16(h2), toByteOffset: 4 &* n, as: SIMD8<Int16>.self)
        dst.storeBytes(of: VectorMath.widen8to16(t2), toByteOffset: 2 &* (3 &* n &- 8), as: SIMD8<Int16>.self)
        if n & 1 == 1 { dst.storeBytes(of: Int16(0), toByteOffset: 6 &* n, as: Int16.self) }
    }

    #if !(arch(arm64) || arch(arm))
    /// The portable kernel: a panel of `panelRows(depth:)` rows converted to int16, then per
    /// 8-channel block the output stage prepared once and 4 rows × 8 channels per tile, int8 weights widened to int16 and
    /// multiplied into int32 lanes (NEON `smull`/`smlal`, x86 `vpmulld`), pairs summed at
    /// the end. Exposed so that tests exercise it on every host. Not built for ARM, where
    /// `run` always takes a NEON kernel (3.8 KB of armv7 runtime code).
    public static func runPortable(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let kPad = paddedDepth(g.depth)
        let kPairs = kPad / 2
        let nPad = paddedColumns(g.columns)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        let rowBytes = kPad * 2
        let panelRows = panelRows(depth: g.depth)
        var row = 0
        while row < g.rows {
            let panelCount = min(panelRows, g.rows - row)
            fillPanel(g, firstRow: row, count: panelCount)
            for block in 0..<(nPad / 8) {
                let w = weights + block * 8 * kPad
                let n0 = block * 8
                let valid = min(8, g.columns - n0)
                let bias = UnsafeRawPointer(g.packed).loadUnaligned(fromByteOffset: 4 * n0, as: SIMD8<Int32>.self)
                let q = RequantizationBlock8(g.requantization, first: g.channelOffset + n0, count: valid)
                var r = 0
                while r < panelCount {
                    let rows = min(4, panelCount - r)
                    let p0 = UnsafeRawPointer(g.panel!) + r * rowBytes
                    let p1 = p0 + min(1, rows - 1) * rowBytes
                    let p2 = p0 + min(2, rows - 1) * rowBytes
                    let p3 = p0 + min(3, rows - 1) * rowBytes
                    var a0 = SIMD16<Int32>(), a1 = SIMD16<Int32>(), a2 = SIMD16<Int32>(), a3 = SIMD16<Int32>()
                    for pair in 0..<kPairs {
                        let wv = VectorMath.widen(VectorMath.widen(w.loadUnaligned(fromByteOffset: 16 * pair, as: SIMD16<Int8>.self)))
                        a0 &+= wv &* broadcastPair(p0, pair)
                        a1 &+= wv &* broadcastPair(p1, pair)
                        a2 &+= wv &* broadcastPair(p2, pair)
                        a3 &+= wv &* broadcastPair(p3, pair)
                    }
                    let out = g.output + (row + r) * g.outputRowStride + n0
                    VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a0)), out, count: valid)
                    if rows > 1 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a1)), out + g.outputRowStride, count: valid) }
                    if rows > 2 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a2)), out + 2 * g.outputRowStride, count: valid) }
                    if rows > 3 { VectorMath.store8(q.apply(bias &+ VectorMath.pairwiseSum(a3)), out + 3 * g.outputRowStride, count: valid) }
                    r += 4
                }
            }
            row += panelCount
        }
    }

    /// `runDirect`'s scalar form (no panel; any depth): per row and 8-column block, the
    /// packed k-pairs times A's values summed in int32, then `RequantizationBlock8`.
    /// Exposed so that tests compare the vector forms with it on every host.
    public static func runDirectPortable(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let kPad = paddedDepth(g.depth)
        let nPad = paddedColumns(g.columns)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        for block in 0..<(nPad / 8) {
            let w = weights + block * 8 * kPad
            let n0 = block * 8
            let valid = min(8, g.columns - n0)
            let bias = UnsafeRawPointer(g.packed).loadUnaligned(fromByteOffset: 4 * n0, as: SIMD8<Int32>.self)
            let q = RequantizationBlock8(g.requantization, first: g.channelOffset + n0, count: valid)
            for r in 0..<g.rows {
                let a = g.a + r * g.aRowStride
                var acc = bias
                for k in 0..<g.depth {
                    let x = Int32(a[k])
                    for c in 0..<8 {
                        acc[c] &+= x &* Int32(w.load(fromByteOffset: (k / 2) * 16 + 2 * c + k % 2, as: Int8.self))
                    }
                }
                VectorMath.store8(q.apply(acc), g.output + r * g.outputRowStride + n0, count: valid)
            }
        }
    }
    #endif

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
/// - `panel`: `PointwiseGEMM.panelByteCount(depth:rows:)` bytes of scratch (for at least
///   `rows`), any alignment; nil only for `PointwiseGEMM.runDirect`, which needs none.
/// - `panelFilled`: the caller has written the `rows` rows of A into `panel` as
///   `PointwiseGEMM.widenRow` would (`rows ≤ panelRows(depth:)`, only where
///   `PointwiseGEMM.readsInt16Panel`); `a` is then not read.
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
    public var panel: UnsafeMutableRawPointer?
    public var panelFilled: Bool

    @inlinable
    public init(
        rows: Int, depth: Int, columns: Int, a: UnsafePointer<Int8>, aRowStride: Int,
        packed: UnsafeRawPointer, output: UnsafeMutablePointer<Int8>, outputRowStride: Int,
        requantization: Requantization, channelOffset: Int = 0, panel: UnsafeMutableRawPointer?,
        panelFilled: Bool = false
    ) {
        self.panelFilled = panelFilled
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
