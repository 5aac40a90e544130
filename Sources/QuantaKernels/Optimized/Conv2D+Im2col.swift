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
        let groups = parameters.groups
        checkGEMMShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        let k = depth(filter)
        let perGroup = filter.outputChannels / groups
        let ci = filter.inputChannelsPerGroup
        let blockBytes = PointwiseGEMM.packedByteCount(depth: k, columns: perGroup)
        let rowsBuffer = scratch.assumingMemoryBound(to: Int8.self)
        let panel = scratch + chunkRows * k
        let pixels = outputShape.n * outputShape.h * outputShape.w
        let pad = Int8(truncatingIfNeeded: inputZeroPoint)
        // Index arithmetic below wraps (&+, &*): every value is bounded by the validated
        // tensor sizes, and the checked forms cost an overflow branch per window row.
        let run = filter.kernelW &* ci
        let imageBytes = inputShape.h &* inputShape.w &* inputShape.c
        let inputRowBytes = inputShape.w &* inputShape.c
        let contiguousRows = parameters.dilationW == 1 && groups == 1
        // Where the GEMM reads an int16 panel and a chunk fits in one, each pixel's row is
        // widened straight into it (the GEMM skips its own conversion pass): the stem of
        // MobileNetV2 spent 44 % of its time gathering and converting rows (perf).
        let direct = PointwiseGEMM.readsInt16Panel && PointwiseGEMM.panelRows(depth: k) >= chunkRows
        let panelRowBytes = PointwiseGEMM.paddedDepth(k) * 2
        // Three window rows of 8...16 contiguous bytes each (the stem over RGB: 9), and the
        // output columns before `interiorColumns` whose windows end inside the input row.
        let threeRows = contiguousRows && filter.kernelH == 3 && run >= 8 && run <= 16
        let lastStart = inputShape.w &- filter.kernelW &+ parameters.padding.left
        let interiorColumns = lastStart >= 0 ? min(outputShape.w, lastStart / parameters.strideW &+ 1) : 0
        var first = 0
        while first < pixels {
            let count = min(chunkRows, pixels - first)
            // The chunk's first pixel as (b, oy, ox), then stepped (no division per pixel).
            let startX = first % outputShape.w
            let startY = (first / outputShape.w) % outputShape.h
            let startB = first / (outputShape.w * outputShape.h)
            for g in 0..<groups {
                var ox = startX, oy = startY, b = startB
                var r = 0
                while r < count {
                    let y0 = oy &* parameters.strideH &- parameters.padding.top
                    let x0 = ox &* parameters.strideW &- parameters.padding.left
                    // A run of pixels of one output row whose windows lie inside the input:
                    // widened straight into the panel with pointer steps only.
                    if direct && threeRows && x0 >= 0 && ox < interiorColumns
                        && y0 >= 0 && y0 &+ 2 &* parameters.dilationH < inputShape.h {
                        let n = min(count &- r, interiorColumns &- ox)
                        var src = input + (b &* imageBytes &+ y0 &* inputRowBytes &+ x0 &* ci)
                        var dst = panel + r &* panelRowBytes
                        for _ in 0..<n {
                            PointwiseGEMM.widenThreeRows(src, inputRowBytes &* parameters.dilationH, run, into: dst)
                            src += parameters.strideW &* ci
                            dst += panelRowBytes
                        }
                        r &+= n
                        ox &+= n
                    } else if !direct && threeRows && x0 >= 0 && ox < interiorColumns
                        && y0 >= 0 && y0 &+ 2 &* parameters.dilationH < inputShape.h {
                        // The same run of interior pixels copied as int8 rows (the NEON GEMM
                        // reads A where it lies): three 8-byte loads and stores per row.
                        let n = min(count &- r, interiorColumns &- ox)
                        var src = input + (b &* imageBytes &+ y0 &* inputRowBytes &+ x0 &* ci)
                        var dst = rowsBuffer + r &* k
                        for _ in 0..<n {
                            copyThreeRows(dst, src, inputRowBytes &* parameters.dilationH, run)
                            src += parameters.strideW &* ci
                            dst += k
                        }
                        r &+= n
                        ox &+= n
                    } else {
                        gatherPixel(into: rowsBuffer + (r &* k), input: input, inputShape: inputShape, filter: filter,
                                    parameters: parameters, b: b, y0: y0, x0: x0, channelOffset: g * ci, pad: pad,
                                    contiguousRows: contiguousRows, threeRows: threeRows)
                        if direct { PointwiseGEMM.widenRow(rowsBuffer + (r &* k), depth: k, into: panel + r &* panelRowBytes) }
                        r &+= 1
                        ox &+= 1
                    }
                    if ox == outputShape.w {
                        ox = 0
                        oy += 1
                        if oy == outputShape.h { oy = 0; b += 1 }
                    }
                }
                PointwiseGEMM.run(GEMMOperands(
                    rows: count, depth: k, columns: perGroup, a: rowsBuffer, aRowStride: k,
                    packed: packed + g * blockBytes,
                    output: output + first * outputShape.c + g * perGroup, outputRowStride: outputShape.c,
                    requantization: requantization, channelOffset: g * perGroup, panel: panel, panelFilled: direct))
            }
            first += count
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
