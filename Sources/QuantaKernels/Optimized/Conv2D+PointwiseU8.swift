/// Int8 1×1 convolution for pair-bounded weights, as the uint8 × int8 GEMM
///
///     out[p, n] = requantize(foldedBias[n] + Σ_k U[p, k] * W[n, k], channel n)
///     U[p, k] = A[p, k] + 128                          (0...255: A with its sign bit flipped)
///     foldedBias[n] = bias[n] - (inputZeroPoint + 128) * Σ_k W[n, k]
///
/// which equals `PointwiseGEMM`'s sum, and so `Int8Reference.conv2D`'s, exactly (wrapping
/// Int32 arithmetic, as there). On x86 the products go through `vpmaddubsw`, which adds
/// the two products of a pair `(k, k+1)` (k even) with int16 saturation: exact when
/// `|W[n, k]| + |W[n, k+1]| ≤ 128` for every such pair (then `255 · 128 = 32640` bounds the
/// pair's sum). `pairsFit` checks that bound; the quantizer guarantees it for the layers it
/// writes with `.pointwiseU8`, and the runtime rejects a model whose packed weights break it.
///
/// Packed weights (one block, the same bytes on every architecture, built by `pack`), with
/// `kPad = K rounded up to 4` and `nPad = N rounded up to 8`:
///
///     Int32 foldedBias[nPad]          (little-endian, unaligned; 0 past N)
///     Int8  weights[nPad / 8][kPad / 4][8][4]   // [n block][k quad][lane][k mod 4], 0-padded
///
/// so that one 32-byte load is the quad `k...k+3` of 8 output channels. The panel (scratch)
/// holds `PointwiseGEMM.panelRows(depth:)` rows of `U`, `kPad` bytes each (0-padded), for
/// the AVX2 kernel.
public enum PointwiseU8GEMM {
    @inlinable
    public static func paddedDepth(_ k: Int) -> Int { (k + 3) & ~3 }

    /// Bytes of the packed block for depth `k` and `n` output channels.
    @inlinable
    public static func packedByteCount(depth k: Int, columns n: Int) -> Int {
        PointwiseGEMM.paddedColumns(n) * (4 + paddedDepth(k))
    }

    /// Bytes of panel scratch for calls of at most `rows` rows (as many rows at a time as
    /// `PointwiseGEMM`, one byte per element).
    @inlinable
    public static func panelByteCount(depth k: Int, rows: Int) -> Int {
        Swift.min(PointwiseGEMM.panelRows(depth: k), Swift.max(rows, 1)) * paddedDepth(k)
    }

    /// Whether one pair of weights sharing a `vpmaddubsw` keeps `|w0| + |w1| ≤ 128`, the bound
    /// under which the uint8 × int8 product pair cannot saturate int16.
    @inlinable
    public static func pairFits(_ w0: Int8, _ w1: Int8) -> Bool {
        Int(w0.magnitude) + Int(w1.magnitude) <= 128
    }

    /// Whether `n` rows of `k` weights (row `j` at `weights + j * weightRowStride`) keep
    /// `|w[j, i]| + |w[j, i+1]| ≤ 128` for every even `i` (an odd depth's last weight is
    /// alone): the weights `.pointwiseU8` computes exactly.
    public static func pairsFit(weights: UnsafePointer<Int8>, weightRowStride: Int, depth k: Int, columns n: Int) -> Bool {
        for j in 0..<n {
            var i = 0
            while i + 1 < k {
                let p = weights + j * weightRowStride + i
                if !pairFits(p[0], p[1]) { return false }
                i += 2
            }
        }
        return true
    }

    /// The first output channel of a packed block of depth `k` and `n` columns
    /// (`packedByteCount` bytes at `packed`) with a pair beyond 128, nil when every pair
    /// fits: `pairsFit` for validating a model's packed weights at load.
    public static func firstUnfitChannel(_ packed: UnsafeRawPointer, depth k: Int, columns n: Int) -> Int? {
        let nPad = PointwiseGEMM.paddedColumns(n)
        let w = (packed + 4 * nPad).assumingMemoryBound(to: Int8.self)
        var i = 0
        while i < nPad * paddedDepth(k) {
            if !pairFits(w[i], w[i + 1]) { return i / (8 * paddedDepth(k)) * 8 + i / 4 % 8 }
            i += 2
        }
        return nil
    }

    /// Packs `n` rows of `k` weights (row `j` at `weights + j * weightRowStride`) and their
    /// bias into the layout above at `destination` (`packedByteCount(depth:columns:)` bytes).
    /// `bias == nil` is zero bias.
    @_optimize(size) @inline(never)  // quantization-time code: flash over speed
    public static func pack(
        weights: UnsafePointer<Int8>, weightRowStride: Int, depth k: Int, columns n: Int,
        bias: UnsafePointer<Int32>?, inputZeroPoint: Int32, into destination: UnsafeMutableRawPointer
    ) {
        let kPad = paddedDepth(k)
        let nPad = PointwiseGEMM.paddedColumns(n)
        for j in 0..<nPad {
            var folded: Int32 = 0
            if j < n {
                var sum: Int32 = 0
                for i in 0..<k { sum &+= Int32(weights[j * weightRowStride + i]) }
                folded = (bias?[j] ?? 0) &- (inputZeroPoint &+ 128) &* sum
            }
            destination.storeBytes(of: folded.littleEndian, toByteOffset: 4 * j, as: Int32.self)
        }
        let w = (destination + 4 * nPad).assumingMemoryBound(to: Int8.self)
        for j in 0..<nPad {
            for i in 0..<kPad {
                let value: Int8 = (j < n && i < k) ? weights[j * weightRowStride + i] : 0
                w[((j / 8 * (kPad / 4) + i / 4) * 8 + j % 8) * 4 + i % 4] = value
            }
        }
    }

    /// Runs a 1×1 stride-1 unpadded convolution (groups 1) over all pixels of `inputShape`
    /// with the packed block `packed`; `scratch` holds `panelByteCount(depth:rows:)` for
    /// the pixel count. Output equals `Int8Reference.conv2D` bit for bit when the packed
    /// weights' pairs fit (`firstUnfitChannel` is nil; the loader checks it).
    ///
    /// - Precondition: as `Im2col.run` (shapes, zero point, requantization channels), 1×1,
    ///   stride 1, no padding, groups 1.
    @inline(never)
    public static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutableRawPointer
    ) {
        precondition(parameters.groups == 1 && GroupedConv.isDirect(filter: filter, parameters: parameters),
                     "PointwiseU8GEMM: 1×1, stride 1, no padding, groups 1 only")
        Im2col.checkGEMMShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        run(GEMMOperands(
            rows: inputShape.n * inputShape.h * inputShape.w, depth: filter.inputChannelsPerGroup, columns: filter.outputChannels,
            a: input, aRowStride: inputShape.c, packed: packed, output: output, outputRowStride: outputShape.c,
            requantization: requantization, panel: scratch))
    }

    /// Runs the GEMM (operands as `PointwiseGEMM.run`, `packed` in this layout, `panel` of
    /// `panelByteCount(depth:rows:)` bytes, `panelFilled` false) with the AVX2 kernel on
    /// x86_64 builds with `QUANTA_AVX2`, else the portable one.
    public static func run(_ g: GEMMOperands) {
        precondition(!g.panelFilled, "PointwiseU8GEMM: fills its own panel")
        #if arch(x86_64) && QUANTA_AVX2
        runAVX2(g)
        #else
        runPortable(g)
        #endif
    }

    /// Writes rows `firstRow..<firstRow+count` of A to the panel as `U` (A xor 0x80), each
    /// `paddedDepth(depth)` bytes, 0-padded. Reads exactly `depth` bytes per row.
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) {
        let k = g.depth
        let kPad = paddedDepth(k)
        let flip = SIMD16<UInt8>(repeating: 0x80)
        for r in 0..<count {
            let src = UnsafeRawPointer(g.a + (firstRow + r) * g.aRowStride)
            let dst = g.panel! + r * kPad
            var i = 0
            while i + 16 <= k {
                dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) ^ flip, toByteOffset: i, as: SIMD16<UInt8>.self)
                i += 16
            }
            while i < k {
                dst.storeBytes(of: src.load(fromByteOffset: i, as: UInt8.self) ^ 0x80, toByteOffset: i, as: UInt8.self)
                i += 1
            }
            while i < kPad {
                dst.storeBytes(of: UInt8(0), toByteOffset: i, as: UInt8.self)
                i += 1
            }
        }
    }

    /// The portable kernel (ARM builds, and every host through the tests): per panel of
    /// `PointwiseGEMM.panelRows(depth:)` rows and 8-column block, one row at a time, each
    /// quad's 32 products widened to int32 and summed per column at the end. Exact for any
    /// weights (no int16 intermediate sums). About as fast as `PointwiseGEMM.runPortable` on
    /// the ARM targets (`Targets/check`), slower than the `sdot` kernel: the uint8 form is
    /// the x86 choice.
    @inline(never)
    public static func runPortable(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseU8GEMM: empty operand")
        let kPad = paddedDepth(g.depth)
        let nPad = PointwiseGEMM.paddedColumns(g.columns)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        let panelRows = PointwiseGEMM.panelRows(depth: g.depth)
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
                for r in 0..<panelCount {
                    let u = UnsafeRawPointer(g.panel!) + r * kPad
                    var low = SIMD16<Int32>(), high = SIMD16<Int32>()  // lanes 0-3 and 4-7, × 4 k
                    for quad in 0..<(kPad / 4) {
                        // Element loops, not `init(truncatingIfNeeded:)`, which stays an
                        // out-of-line call on SIMD types (see `VectorMath`).
                        let bytes = u.loadUnaligned(fromByteOffset: 4 * quad, as: SIMD4<UInt8>.self)
                        var x = SIMD16<Int32>()
                        for i in 0..<16 { x[i] = Int32(bytes[i & 3]) }
                        low &+= VectorMath.widen(VectorMath.widen(w.loadUnaligned(fromByteOffset: 32 * quad, as: SIMD16<Int8>.self))) &* x
                        high &+= VectorMath.widen(VectorMath.widen(w.loadUnaligned(fromByteOffset: 32 * quad + 16, as: SIMD16<Int8>.self))) &* x
                    }
                    var acc = bias
                    for lane in 0..<4 {
                        acc[lane] &+= low[4 * lane] &+ low[4 * lane + 1] &+ low[4 * lane + 2] &+ low[4 * lane + 3]
                        acc[lane + 4] &+= high[4 * lane] &+ high[4 * lane + 1] &+ high[4 * lane + 2] &+ high[4 * lane + 3]
                    }
                    VectorMath.store8(q.apply(acc), g.output + (row + r) * g.outputRowStride + n0, count: valid)
                }
            }
            row += panelCount
        }
    }
}
