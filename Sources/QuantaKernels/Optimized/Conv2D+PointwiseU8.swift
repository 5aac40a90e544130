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

    /// Whether `n` rows of `k` weights (row `j` at `weights + j * weightRowStride`) keep
    /// `|w[j, i]| + |w[j, i+1]| ≤ 128` for every even `i` (an odd depth's last weight is
    /// alone): the weights `.pointwiseU8` computes exactly.
    public static func pairsFit(weights: UnsafePointer<Int8>, weightRowStride: Int, depth k: Int, columns n: Int) -> Bool {
        for j in 0..<n {
            var i = 0
            while i + 1 < k {
                let p = weights + j * weightRowStride + i
                if Int(p[0].magnitude) + Int(p[1].magnitude) > 128 { return false }
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
            if Int(w[i].magnitude) + Int(w[i + 1].magnitude) > 128 { return i / (8 * paddedDepth(k)) * 8 + i / 4 % 8 }
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
    /// weights' pairs fit (`packedPairsFit`).
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

    /// The portable kernel (ARM builds, and every host through the tests): one output at a
    /// time, `Int8Reference.requantize` on each sum. Compact rather than fast (this variant
    /// is the x86 form; on ARM the int16 and `sdot` GEMMs of `.pointwise` are the fast ones):
    /// it adds little to a microcontroller's flash. Reads A directly; the panel is unused.
    @_optimize(size) @inline(never)
    public static func runPortable(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseU8GEMM: empty operand")
        let kPad = paddedDepth(g.depth)
        let nPad = PointwiseGEMM.paddedColumns(g.columns)
        let weights = (UnsafeRawPointer(g.packed) + 4 * nPad).assumingMemoryBound(to: Int8.self)
        for r in 0..<g.rows {
            let a = g.a + r * g.aRowStride
            for j in 0..<g.columns {
                // Column j: lane j % 8 of block j / 8; its quad q at 32·q.
                let w = weights + (j / 8) * 8 * kPad + (j % 8) * 4
                var acc = Int32(littleEndian: UnsafeRawPointer(g.packed).loadUnaligned(fromByteOffset: 4 * j, as: Int32.self))
                for i in 0..<g.depth {
                    acc &+= (Int32(a[i]) &+ 128) &* Int32(w[(i / 4) * 32 + i % 4])
                }
                g.output[r * g.outputRowStride + j] = Int8Reference.requantize(acc, channel: g.channelOffset + j, g.requantization)
            }
        }
    }
}
