/// General int8 convolution (any kernel, stride, dilation, padding; any groups) as
/// im2col + `PointwiseGEMM`: for a chunk of `Im2col.chunkRows` output pixels and one
/// group, each pixel's receptive field `[ky][kx][i]` (the OHWI order of a filter row) is
/// copied into a scratch row, padding positions holding the input zero point, which the
/// folded bias cancels: `Σ w * (zp) - zp * Σ w = 0`, as the reference skips them.
///
/// Reference: `Int8Reference.conv2D`; same results bit for bit. Typical uses: the first
/// layer (3×3 stride 2, 3 channels), 1×K and K×1 kernels, strided 1×1, grouped 3×3.
///
/// Scratch (`scratchByteCount`): `chunkRows × K` bytes of im2col rows, then the GEMM panel.
/// Packed weights: one `PointwiseGEMM` block per group (depth `kH·kW·Ci`, `O/G` columns).
public enum Im2col {
    /// Output pixels gathered per GEMM call (a multiple of the 4- and 6-row tiles).
    public static let chunkRows = 48

    /// Depth of one group's GEMM: `kernelH * kernelW * inputChannelsPerGroup`.
    @inlinable
    public static func depth(_ filter: FilterShape) -> Int {
        filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup
    }

    @inlinable
    public static func scratchByteCount(filter: FilterShape) -> Int {
        chunkRows * depth(filter) + PointwiseGEMM.panelByteCount(depth: depth(filter))
    }

    /// Bytes of the packed weights: `groups` GEMM blocks.
    @inlinable
    public static func packedByteCount(filter: FilterShape, groups: Int) -> Int {
        groups * PointwiseGEMM.packedByteCount(depth: depth(filter), columns: filter.outputChannels / groups)
    }

    /// Packs OHWI weights and bias per group, folding `inputZeroPoint`.
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public static func pack(
        weights: UnsafePointer<Int8>, filter: FilterShape, groups: Int, bias: UnsafePointer<Int32>?,
        inputZeroPoint: Int32, into destination: UnsafeMutableRawPointer
    ) {
        let k = depth(filter)
        let perGroup = filter.outputChannels / groups
        let blockBytes = PointwiseGEMM.packedByteCount(depth: k, columns: perGroup)
        for g in 0..<groups {
            PointwiseGEMM.pack(
                weights: weights + g * perGroup * k, weightRowStride: k, depth: k, columns: perGroup,
                bias: bias.map { $0 + g * perGroup }, inputZeroPoint: inputZeroPoint,
                into: destination + g * blockBytes)
        }
    }

    /// Runs the convolution. `scratch` holds `scratchByteCount(filter:)` bytes.
    ///
    /// - Precondition: as `Int8Reference.conv2D`; `-128 <= inputZeroPoint <= 127`;
    ///   `packed` from `pack` with the same zero point. `output` overlaps neither `input`
    ///   nor `scratch`.
    public static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutableRawPointer
    ) {
        checkGEMMShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        let k = depth(filter)
        // Where the GEMM reads an int16 panel and a chunk fits in one, each pixel's row is
        // widened straight into it (the GEMM skips its own conversion pass): the stem of
        // MobileNetV2 spent 44 % of its time gathering and converting rows (perf).
        let direct = PointwiseGEMM.readsInt16Panel && PointwiseGEMM.panelRows(depth: k) >= chunkRows
        chunkedGEMMs(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                     output: output, outputShape: outputShape, parameters: parameters, requantization: requantization,
                     chunk: chunkRows, rows: scratch.assumingMemoryBound(to: Int8.self), panel: scratch + chunkRows * k, widened: direct)
    }

    /// The im2col GEMMs `chunk` output pixels at a time: per chunk and group, the rows
    /// gathered into `rows`, then one GEMM. With a `panel`: rows `K` bytes apart, widened
    /// into the panel as well when `widened` (the GEMM then reads only the panel), and
    /// `PointwiseGEMM.run`. Without: rows `paddedDepth(K)` bytes apart (the pad byte, never
    /// written, must be 0: its packed weight is 0 too) and `PointwiseGEMM.runDirect` at that
    /// even depth.
    @inline(__always)
    private static func chunkedGEMMs(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization,
        chunk: Int, rows: UnsafeMutablePointer<Int8>, panel: UnsafeMutableRawPointer?, widened: Bool
    ) {
        let groups = parameters.groups
        let k = depth(filter)
        let perGroup = filter.outputChannels / groups
        let blockBytes = PointwiseGEMM.packedByteCount(depth: k, columns: perGroup)
        let pixels = outputShape.n * outputShape.h * outputShape.w
        let pad = Int8(truncatingIfNeeded: inputZeroPoint)
        let kPad = PointwiseGEMM.paddedDepth(k)
        // The GEMM's depth and row stride: K with a panel, the even kPad for runDirect.
        let depth = panel == nil ? kPad : k
        var first = 0
        while first < pixels {
            let count = min(chunk, pixels - first)
            for g in 0..<groups {
                gatherRows(count: count, first: first, group: g, input: input, inputShape: inputShape, filter: filter,
                           outputShape: outputShape, parameters: parameters, pad: pad, into: rows, rowStride: depth,
                           widenedInto: widened ? panel : nil, panelRowStride: 2 * kPad)
                let operands = GEMMOperands(
                    rows: count, depth: depth, columns: perGroup, a: rows, aRowStride: depth,
                    packed: packed + g * blockBytes,
                    output: output + first * outputShape.c + g * perGroup, outputRowStride: outputShape.c,
                    requantization: requantization, channelOffset: g * perGroup, panel: panel, panelFilled: widened)
                if panel == nil { PointwiseGEMM.runDirect(operands) } else { PointwiseGEMM.run(operands) }
            }
            first += count
        }
    }

    /// Bytes of the stack tile of `runDirect` (`KernelVariant.im2colDirect`): it holds
    /// `directTileRows(depth:)` im2col rows of `paddedDepth(K)` bytes.
    public static let directTileBytes = 1024

    /// Im2col rows per `runDirect` GEMM call for depth `K`: as many as the tile holds, a
    /// multiple of 8 (the 8-row tiles) from 8 on, at most `chunkRows`; 0 when one row of
    /// `PointwiseGEMM.paddedDepth(K)` bytes does not fit (`.im2colDirect` does not apply).
    @inlinable
    public static func directTileRows(depth k: Int) -> Int {
        guard k >= 1, k <= directTileBytes else { return 0 }
        let rows = directTileBytes / PointwiseGEMM.paddedDepth(k)
        return rows >= 8 ? min(chunkRows, rows & ~7) : rows
    }

    /// `run` without arena scratch (`KernelVariant.im2colDirect`): `directTileRows(depth:)`
    /// output pixels at a time, their im2col rows gathered into a `directTileBytes` buffer on
    /// the stack (rows `paddedDepth(K)` bytes apart, the pad byte 0 against a 0 weight) and
    /// multiplied by `PointwiseGEMM.runDirect` at the even depth; where the GEMM reads an
    /// int16 panel (x86), the rows also widened into a stack panel of `2 × directTileBytes`
    /// (up to 36 rows) for `PointwiseGEMM.run`. Stack: at most 3 KiB. Same results as `run`.
    ///
    /// - Precondition: as `run`; `directTileRows(depth: depth(filter)) >= 1`.
    public static func runDirect(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        checkGEMMShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        let k = depth(filter)
        let tileRows = directTileRows(depth: k)
        precondition(tileRows >= 1, "Im2col.runDirect: depth \(k) does not fit the stack tile")
        // The tile: a value on the stack (16 × 64 bytes = directTileBytes), zeroed once so
        // that the pad byte of an odd depth is 0 (its packed weight is 0 too).
        var tile = DirectTile()
        #if !(arch(arm64) || arch(arm))
        // Where the GEMM reads an int16 panel (AVX2, portable), the rows are widened into a
        // second, int16 stack tile of twice the bytes as they are gathered (as `run` does
        // into its panel), in multiples of the 6-row tiles: the direct GEMM would widen each
        // k-pair of A per output block instead (2 % slower on ShuffleNetV2 1.0/224's stem).
        let panelRows = min(PointwiseGEMM.panelRows(depth: k), 2 * directTileBytes / (2 * PointwiseGEMM.paddedDepth(k)) / 6 * 6)
        if panelRows >= 6 {
            var panelTile = (DirectTile(), DirectTile())
            withUnsafeMutableBytes(of: &tile) { bytes in
                withUnsafeMutableBytes(of: &panelTile) { panelBytes in
                    chunkedGEMMs(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                                 output: output, outputShape: outputShape, parameters: parameters, requantization: requantization,
                                 chunk: panelRows, rows: bytes.baseAddress!.assumingMemoryBound(to: Int8.self),
                                 panel: panelBytes.baseAddress!, widened: true)
                }
            }
            return
        }
        #endif
        withUnsafeMutableBytes(of: &tile) { bytes in
            chunkedGEMMs(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                         output: output, outputShape: outputShape, parameters: parameters, requantization: requantization,
                         chunk: tileRows, rows: bytes.baseAddress!.assumingMemoryBound(to: Int8.self), panel: nil, widened: false)
        }
    }

    /// `directTileBytes` of stack (a tuple of vectors: a plain value, never allocated).
    private struct DirectTile {
        var v: (SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>,
                SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>, SIMD64<Int8>)
        init() {
            let z = SIMD64<Int8>()
            v = (z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z)
        }
    }

    /// The im2col rows (group `group`'s channels) of output pixels `first ..< first + count`
    /// (in NHW order) to `rows` (`rowStride` bytes apart, `depth(filter)` bytes each; taps
    /// outside the input hold `pad`); with `widened`, each row also widened to int16 into the
    /// panel (`panelRowStride` bytes apart, `PointwiseGEMM.widenRow`), where a run of
    /// interior 3-row windows goes to the panel only. (Not inlined: its three callers would
    /// each carry a copy of the gather, 12 KB of aarch64 runtime code.)
    @inline(never) @usableFromInline
    static func gatherRows(
        count: Int, first: Int, group g: Int, input: UnsafePointer<Int8>, inputShape: TensorShape, filter: FilterShape,
        outputShape: TensorShape, parameters: Conv2DParameters, pad: Int8,
        into rows: UnsafeMutablePointer<Int8>, rowStride: Int,
        widenedInto widened: UnsafeMutableRawPointer? = nil, panelRowStride: Int = 0
    ) {
        let k = depth(filter)
        let ci = filter.inputChannelsPerGroup
        // Index arithmetic below wraps (&+, &*): every value is bounded by the validated
        // tensor sizes, and the checked forms cost an overflow branch per window row.
        let run = filter.kernelW &* ci
        let imageBytes = inputShape.h &* inputShape.w &* inputShape.c
        let inputRowBytes = inputShape.w &* inputShape.c
        let contiguousRows = parameters.dilationW == 1 && parameters.groups == 1
        // Three window rows of 8...16 contiguous bytes each (the stem over RGB: 9), and the
        // output columns before `interiorColumns` whose windows end inside the input row.
        let threeRows = contiguousRows && filter.kernelH == 3 && run >= 8 && run <= 16
        let lastStart = inputShape.w &- filter.kernelW &+ parameters.padding.left
        let interiorColumns = lastStart >= 0 ? min(outputShape.w, lastStart / parameters.strideW &+ 1) : 0
        // The first pixel as (b, oy, ox), then stepped (no division per pixel).
        var ox = first % outputShape.w
        var oy = (first / outputShape.w) % outputShape.h
        var b = first / (outputShape.w * outputShape.h)
        var r = 0
        while r < count {
            let y0 = oy &* parameters.strideH &- parameters.padding.top
            let x0 = ox &* parameters.strideW &- parameters.padding.left
            if threeRows && x0 >= 0 && ox < interiorColumns && y0 >= 0 && y0 &+ 2 &* parameters.dilationH < inputShape.h {
                // A run of pixels of one output row whose windows lie inside the input, with
                // pointer steps only: widened straight into the panel, or copied as int8
                // rows (three 8-byte loads and stores per row).
                let n = min(count &- r, interiorColumns &- ox)
                var src = input + (b &* imageBytes &+ y0 &* inputRowBytes &+ x0 &* ci)
                if let widened {
                    var dst = widened + r &* panelRowStride
                    for _ in 0..<n {
                        PointwiseGEMM.widenThreeRows(src, inputRowBytes &* parameters.dilationH, run, into: dst)
                        src += parameters.strideW &* ci
                        dst += panelRowStride
                    }
                } else {
                    var dst = rows + r &* rowStride
                    for _ in 0..<n {
                        copyThreeRows(dst, src, inputRowBytes &* parameters.dilationH, run)
                        src += parameters.strideW &* ci
                        dst += rowStride
                    }
                }
                r &+= n
                ox &+= n
            } else {
                gatherPixel(into: rows + (r &* rowStride), input: input, inputShape: inputShape, filter: filter,
                            parameters: parameters, b: b, y0: y0, x0: x0, channelOffset: g * ci, pad: pad,
                            contiguousRows: contiguousRows, threeRows: threeRows)
                if let widened { PointwiseGEMM.widenRow(rows + (r &* rowStride), depth: k, into: widened + r &* panelRowStride) }
                r &+= 1
                ox &+= 1
            }
            if ox == outputShape.w {
                ox = 0
                oy += 1
                if oy == outputShape.h { oy = 0; b += 1 }
            }
        }
    }

    /// Writes the im2col row (`kernelH · kernelW · ci` bytes, `[ky][kx][i]`) of the output
    /// pixel whose window starts at input row `y0`, column `x0` of image `b`, channels
    /// `channelOffset ..< channelOffset + ci`, to `dst`; taps outside the input get `pad`.
    /// `contiguousRows`: dilationW 1 and one group; `threeRows`: also 3 window rows of 8...16
    /// bytes each (`run`'s flags, computed once per call).
    @inline(__always) @usableFromInline
    static func gatherPixel(
        into dst: UnsafeMutablePointer<Int8>, input: UnsafePointer<Int8>, inputShape: TensorShape, filter: FilterShape,
        parameters: Conv2DParameters, b: Int, y0: Int, x0: Int, channelOffset: Int, pad: Int8,
        contiguousRows: Bool, threeRows: Bool
    ) {
        let ci = filter.inputChannelsPerGroup
        let run = filter.kernelW &* ci
        let inputRowBytes = inputShape.w &* inputShape.c
        var dst = dst
        // A window row inside the input is one contiguous run of kernelW·ci bytes when
        // dilationW is 1 and there is one group (NHWC).
        let rowRun = contiguousRows && x0 >= 0 && x0 &+ filter.kernelW <= inputShape.w
        let image = input + (b &* inputShape.h &* inputRowBytes &+ x0 &* ci)
        if rowRun && threeRows && y0 >= 0 && y0 &+ 2 &* parameters.dilationH < inputShape.h {
            copyThreeRows(dst, image + (y0 &* inputRowBytes), inputRowBytes &* parameters.dilationH, run)
            return
        }
        for ky in 0..<filter.kernelH {
            let iy = y0 &+ ky &* parameters.dilationH
            if rowRun && iy >= 0 && iy < inputShape.h {
                copy(dst, image + (iy &* inputRowBytes), run)
                dst += run
                continue
            }
            for kx in 0..<filter.kernelW {
                let ix = x0 + kx * parameters.dilationW
                if iy < 0 || iy >= inputShape.h || ix < 0 || ix >= inputShape.w {
                    for i in 0..<ci { dst[i] = pad }
                } else {
                    copy(dst, input + inputShape.index(b, iy, ix, channelOffset), ci)
                }
                dst += ci
            }
        }
    }

    /// Copies `n` bytes with unaligned 16-, 8- and 4-byte moves, the last one overlapping
    /// (no call to memmove for the few bytes of a small-channel window, and no byte read
    /// outside `src ..< src + n`).
    /// Three window rows of `n` bytes (8...16), `rowStride` apart in the input, to `dst`
    /// back to back: all six 8-byte loads (head and tail of each row) before the six stores.
    /// With each row's stores before the next row's loads (`copy` three times) every load
    /// waited on the stores ahead of it: a 3×3 stem over RGB (9-byte rows) spent 0.46 ms
    /// instead of 0.38 on MobileNetV2 1.0/224's 112×112 outputs (docs/PERFORMANCE-KERNELS.md).
    @inline(__always) @usableFromInline
    static func copyThreeRows(_ dst: UnsafeMutablePointer<Int8>, _ src: UnsafePointer<Int8>, _ rowStride: Int, _ n: Int) {
        let s0 = UnsafeRawPointer(src), s1 = s0 + rowStride, s2 = s1 + rowStride
        let h0 = s0.loadUnaligned(as: UInt64.self), t0 = s0.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        let h1 = s1.loadUnaligned(as: UInt64.self), t1 = s1.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        let h2 = s2.loadUnaligned(as: UInt64.self), t2 = s2.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        let d = UnsafeMutableRawPointer(dst)
        d.storeBytes(of: h0, as: UInt64.self)
        d.storeBytes(of: t0, toByteOffset: n &- 8, as: UInt64.self)
        d.storeBytes(of: h1, toByteOffset: n, as: UInt64.self)
        d.storeBytes(of: t1, toByteOffset: 2 &* n &- 8, as: UInt64.self)
        d.storeBytes(of: h2, toByteOffset: 2 &* n, as: UInt64.self)
        d.storeBytes(of: t2, toByteOffset: 3 &* n &- 8, as: UInt64.self)
    }

    @inline(__always) @usableFromInline
    static func copy(_ dst: UnsafeMutablePointer<Int8>, _ src: UnsafePointer<Int8>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        if n >= 16 {
            var i = 0
            while i + 16 <= n {
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self), toByteOffset: i, as: SIMD16<Int8>.self)
                i += 16
            }
            if i < n {
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<Int8>.self), toByteOffset: n - 16, as: SIMD16<Int8>.self)
            }
        } else if n >= 8 {
            let head = s.loadUnaligned(as: UInt64.self), tail = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: head, as: UInt64.self)
            d.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            let head = s.loadUnaligned(as: UInt32.self), tail = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: head, as: UInt32.self)
            d.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        } else {
            for i in 0..<n { dst[i] = src[i] }
        }
    }

    @usableFromInline
    static func checkGEMMShapes(
        inputShape: TensorShape, inputZeroPoint: Int32, filter: FilterShape, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        let groups = parameters.groups
        precondition(groups >= 1 && filter.outputChannels % groups == 0 && inputShape.c == groups * filter.inputChannelsPerGroup, "conv2D: channels do not match groups")
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1 && parameters.dilationH >= 1 && parameters.dilationW >= 1, "conv2D: stride and dilation must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape, filter: filter), "conv2D: output shape mismatch")
        precondition(inputZeroPoint >= -128 && inputZeroPoint <= 127, "conv2D: input zero point outside int8")
        precondition(requantization.channelCount == 1 || requantization.channelCount == filter.outputChannels, "conv2D: requantization channel count")
    }
}
