/// Int8 depthwise convolution (groups == input channels, any kernel size, stride,
/// dilation, padding and depth multiplier), vectorized over 16 channels of NHWC.
///
/// Reference: `Int8Reference.conv2D` with `groups == inputShape.c`. Computes
///
///     acc[c*M+m] = bias[c*M+m] + Σ_{valid ky,kx} w[c*M+m, ky, kx] * (in[iy, ix, c] - inputZeroPoint)
///
/// exactly as the reference (padding taps skipped). Edge columns (window partly outside the
/// input) compute `(in - inputZeroPoint) · w` in int16 (within ±255·127) and widen each
/// product. Interior columns fold the zero point into the bias (`bias - zp · Σ w`) and add
/// raw products `in · w` in pairs in int16 before widening: with weights in -127...127 a
/// pair is within ±2·128·127 = ±32512, so the int16 sum is exact (`vpmullw` + `vpaddw`,
/// `mul`/`mla.8h`). Requantization is the reference's, 8 lanes at a time (`Requantizer8`).
///
/// - Precondition: weights in -127...127 (the quantizer's symmetric range; `ModelWriter`
///   keeps the reference kernel for a filter holding -128). A -128 weight gives wrong
///   but in-bounds results, never a trap: all arithmetic wraps.
///
/// Packed weights (`DepthwiseConv.pack`, the same bytes on every architecture), with
/// `cPad = C rounded up to 16`, `M` the depth multiplier:
///
///     Int32 bias[M][cPad]                  (bias of output channel c*M+m; 0 past C)
///     Int8  weights[M][kernelH][kernelW][cPad]
public enum DepthwiseConv {
    @inlinable
    public static func paddedChannels(_ c: Int) -> Int { (c + 15) & ~15 }

    /// Bytes of the packed block for `channels` input channels.
    @inlinable
    public static func packedByteCount(channels: Int, filter: FilterShape) -> Int {
        let multiplier = filter.outputChannels / max(channels, 1)
        return multiplier * paddedChannels(channels) * (4 + filter.kernelH * filter.kernelW)
    }

    /// Packs OHWI depthwise weights (`filter.inputChannelsPerGroup == 1`) and bias.
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public static func pack(
        weights: UnsafePointer<Int8>, filter: FilterShape, channels: Int, bias: UnsafePointer<Int32>?,
        into destination: UnsafeMutableRawPointer
    ) {
        precondition(filter.inputChannelsPerGroup == 1 && channels >= 1 && filter.outputChannels % channels == 0, "DepthwiseConv.pack: not a depthwise filter")
        let multiplier = filter.outputChannels / channels
        let cPad = paddedChannels(channels)
        let taps = filter.kernelH * filter.kernelW
        for m in 0..<multiplier {
            for c in 0..<cPad {
                let value: Int32 = c < channels ? (bias?[c * multiplier + m] ?? 0) : 0
                destination.storeBytes(of: value.littleEndian, toByteOffset: 4 * (m * cPad + c), as: Int32.self)
            }
        }
        let w = (destination + 4 * multiplier * cPad).assumingMemoryBound(to: Int8.self)
        for m in 0..<multiplier {
            for t in 0..<taps {
                for c in 0..<cPad {
                    w[(m * taps + t) * cPad + c] = c < channels ? weights[(c * multiplier + m) * taps + t] : 0
                }
            }
        }
    }

    /// Depthwise convolution of any geometry with packed weights (see the type).
    ///
    /// - Precondition: as `Int8Reference.conv2D` with `groups == inputShape.c`;
    ///   `-128 <= inputZeroPoint <= 127`; `packed` from `pack` for this filter. No overlap
    ///   of `output` with `input`.
    public static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        checkShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        #if arch(arm64) || arch(arm)
        if neonApplies(inputShape: inputShape, filter: filter) {
            runNEON(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                    output: output, outputShape: outputShape, parameters: parameters, requantization: requantization)
            return
        }
        #endif
        rows(
            input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
            output: output, outputShape: outputShape, requantization: requantization,
            kernelH: filter.kernelH, kernelW: filter.kernelW,
            strideH: parameters.strideH, strideW: parameters.strideW,
            dilationH: parameters.dilationH, dilationW: parameters.dilationW,
            padTop: parameters.padding.top, padLeft: parameters.padding.left)
    }

    @usableFromInline
    static func checkShapes(
        inputShape: TensorShape, inputZeroPoint: Int32, filter: FilterShape, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        precondition(parameters.groups == inputShape.c && filter.inputChannelsPerGroup == 1 && inputShape.c >= 1 && filter.outputChannels % inputShape.c == 0, "DepthwiseConv: not a depthwise convolution")
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1 && parameters.dilationH >= 1 && parameters.dilationW >= 1, "DepthwiseConv: stride and dilation must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape, filter: filter), "DepthwiseConv: output shape mismatch")
        precondition(inputZeroPoint >= -128 && inputZeroPoint <= 127, "DepthwiseConv: input zero point outside int8")
        precondition(requantization.channelCount == 1 || requantization.channelCount == filter.outputChannels, "DepthwiseConv: requantization channel count")
    }

    /// The loop nest shared by the generic and the 3×3 kernels; `@inline(__always)` so that
    /// constant kernel sizes and strides of the callers unroll the taps.
    ///
    /// Order: image, output row, multiplier, 16-channel block (bias and requantization
    /// constants loaded once), output column, taps. Columns whose window lies inside the
    /// input take the unchecked path.
    @inline(__always) @usableFromInline
    static func rows(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape, requantization: Requantization,
        kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, dilationH: Int, dilationW: Int,
        padTop: Int, padLeft: Int
    ) {
        let channels = inputShape.c
        let multiplier = outputShape.c / channels
        let cPad = paddedChannels(channels)
        let taps = kernelH * kernelW
        let weights = (packed + 4 * multiplier * cPad).assumingMemoryBound(to: Int8.self)
        let zp = SIMD16<Int16>(repeating: Int16(inputZeroPoint))
        let inRow = inputShape.w * channels
        // Output columns whose whole window is inside the input: ox in [xBegin, xEnd).
        let xBegin = min(outputShape.w, (padLeft + strideW - 1) / strideW)
        let lastTap = (kernelW - 1) * dilationW
        let xEndRaw = (inputShape.w - 1 - lastTap + padLeft) >= 0 ? (inputShape.w - 1 - lastTap + padLeft) / strideW + 1 : 0
        let xEnd = max(xBegin, min(outputShape.w, xEndRaw))
        for b in 0..<outputShape.n {
            let image = input + b * inputShape.h * inRow
            for oy in 0..<outputShape.h {
                let y0 = oy * strideH - padTop
                // Valid ky: 0 <= y0 + ky*dh < inputShape.h.
                var kyBegin = 0
                while kyBegin < kernelH && y0 + kyBegin * dilationH < 0 { kyBegin += 1 }
                var kyEnd = kernelH
                while kyEnd > kyBegin && y0 + (kyEnd - 1) * dilationH >= inputShape.h { kyEnd -= 1 }
                let fullRows = kyBegin == 0 && kyEnd == kernelH
                let outRow = output + ((b * outputShape.h + oy) * outputShape.w) * outputShape.c
                for m in 0..<multiplier {
                    // `c0` is a constant per block: the local functions below capture it, and a
                    // captured `var` would cost a dynamic exclusivity check (swift_beginAccess)
                    // per call.
                    for c0 in stride(from: 0, to: channels, by: 16) {
                        let count = min(16, channels - c0)
                        let biasBase = packed + 4 * (m * cPad + c0)
                        let bias0 = biasBase.loadUnaligned(as: SIMD8<Int32>.self)
                        let bias1 = biasBase.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                        let q0 = Requantizer8(requantization, first: c0 * multiplier + m, count: count, channelStride: multiplier)
                        let q1 = Requantizer8(requantization, first: (c0 + 8) * multiplier + m, count: count - 8, channelStride: multiplier)
                        let w = weights + m * taps * cPad + c0
                        let inBase = image + c0
                        // Interior columns fold the zero point into the bias:
                        // Σ w (x - zp) = Σ w x - zp Σ w, with |Σ w| ≤ taps · 127.
                        var weightSum0 = SIMD8<Int32>(), weightSum1 = SIMD8<Int32>()
                        for t in 0..<taps {
                            let wv = VectorMath.widen(UnsafeRawPointer(w + t * cPad).loadUnaligned(as: SIMD16<Int8>.self))
                            weightSum0 &+= VectorMath.widenLow(wv)
                            weightSum1 &+= VectorMath.widenHigh(wv)
                        }
                        let zp32 = SIMD8<Int32>(repeating: inputZeroPoint)
                        let folded0 = bias0 &- zp32 &* weightSum0
                        let folded1 = bias1 &- zp32 &* weightSum1
                        /// One output column by the checked path (any window, any count).
                        @inline(__always) func edge(_ ox: Int) {
                            let x0 = ox * strideW - padLeft
                            var acc0 = bias0
                            var acc1 = bias1
                            for ky in kyBegin..<kyEnd {
                                let iy = y0 + ky * dilationH
                                for kx in 0..<kernelW {
                                    let ix = x0 + kx * dilationW
                                    if ix < 0 || ix >= inputShape.w { continue }
                                    let xv = VectorMath.load16(inBase + iy * inRow + ix * channels, count: count)
                                    let wv = UnsafeRawPointer(w + (ky * kernelW + kx) * cPad).loadUnaligned(as: SIMD16<Int8>.self)
                                    let p = (VectorMath.widen(xv) &- zp) &* VectorMath.widen(wv)
                                    acc0 &+= VectorMath.widenLow(p)
                                    acc1 &+= VectorMath.widenHigh(p)
                                }
                            }
                            store(q0.apply(acc0), q1.apply(acc1), outRow + ox * outputShape.c)
                        }
                        @inline(__always) func store(_ r0: SIMD8<Int32>, _ r1: SIMD8<Int32>, _ o: UnsafeMutablePointer<Int8>) {
                            if multiplier == 1 && count == 16 {
                                VectorMath.store16(r0, r1, o + c0)
                            } else if multiplier == 1 {
                                VectorMath.store8(r0, o + c0, count: count)
                                if count > 8 { VectorMath.store8(r1, o + c0 + 8, count: count - 8) }
                            } else {
                                for i in 0..<min(count, 8) {
                                    o[(c0 + i) * multiplier + m] = Int8(truncatingIfNeeded: r0[i])
                                }
                                if count > 8 {
                                    for i in 0..<(count - 8) {
                                        o[(c0 + 8 + i) * multiplier + m] = Int8(truncatingIfNeeded: r1[i])
                                    }
                                }
                            }
                        }
                        // Interior columns: the whole window is inside the input. The zero
                        // point is folded into the bias, and raw products w·x (within
                        // ±128·127 = ±16256) are added in pairs exactly in int16 before one
                        // widening. Pointers advance by a column's stride; no index checks.
                        var window = inBase + y0 * inRow + (xBegin * strideW - padLeft) * channels
                        var o = outRow + xBegin * outputShape.c
                        let windowStep = strideW * channels
                        let rowStep = dilationH * inRow
                        let colStep = dilationW * channels
                        @inline(__always) func x16(_ p: UnsafePointer<Int8>) -> SIMD16<Int16> {
                            VectorMath.widen(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self))
                        }
                        @inline(__always) func accumulate(_ p: SIMD16<Int16>, _ a0: inout SIMD8<Int32>, _ a1: inout SIMD8<Int32>) {
                            a0 &+= VectorMath.widenLow(p)
                            a1 &+= VectorMath.widenHigh(p)
                        }
                        #if !(arch(arm64) || arch(arm))
                        // (On ARM the NEON kernel takes 3×3 layers of 16 or more channels,
                        // multiplier 1 (DepthwiseConv.run3x3); the rare rest takes the general
                        // path below: less code.)
                        if kernelH == 3 && kernelW == 3 && count == 16 {
                            let w0 = x16(w), w1 = x16(w + cPad), w2 = x16(w + 2 * cPad)
                            let w3 = x16(w + 3 * cPad), w4 = x16(w + 4 * cPad), w5 = x16(w + 5 * cPad)
                            let w6 = x16(w + 6 * cPad), w7 = x16(w + 7 * cPad), w8 = x16(w + 8 * cPad)
                            // Edge columns and rows: a tap outside the input reads as the zero
                            // point, whose product the folded bias cancels (the reference skips it).
                            let zp16 = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: inputZeroPoint))
                            @inline(__always) func tap(_ ky: Int, _ kx: Int, _ x0: Int) -> SIMD16<Int16> {
                                let iy = y0 + ky * dilationH, ix = x0 + kx * dilationW
                                return iy < 0 || iy >= inputShape.h || ix < 0 || ix >= inputShape.w
                                    ? zp16 : x16(inBase + iy * inRow + ix * channels)
                            }
                            @inline(__always) func edge3x3(_ ox: Int) {
                                let x0 = ox * strideW - padLeft
                                var a0 = folded0, a1 = folded1
                                accumulate(tap(0, 0, x0) &* w0 &+ tap(0, 1, x0) &* w1, &a0, &a1)
                                accumulate(tap(0, 2, x0) &* w2 &+ tap(1, 0, x0) &* w3, &a0, &a1)
                                accumulate(tap(1, 1, x0) &* w4 &+ tap(1, 2, x0) &* w5, &a0, &a1)
                                accumulate(tap(2, 0, x0) &* w6 &+ tap(2, 1, x0) &* w7, &a0, &a1)
                                accumulate(tap(2, 2, x0) &* w8, &a0, &a1)
                                store(q0.apply(a0), q1.apply(a1), outRow + ox * outputShape.c)
                            }
                            guard fullRows && xBegin < xEnd else {
                                for ox in 0..<outputShape.w { edge3x3(ox) }
                                continue
                            }
                            for ox in 0..<xBegin { edge3x3(ox) }
                            for _ in xBegin..<xEnd {
                                let r0 = window, r1 = window + rowStep, r2 = window + 2 * rowStep
                                var a0 = folded0, a1 = folded1
                                accumulate(x16(r0) &* w0 &+ x16(r0 + colStep) &* w1, &a0, &a1)
                                accumulate(x16(r0 + 2 * colStep) &* w2 &+ x16(r1) &* w3, &a0, &a1)
                                accumulate(x16(r1 + colStep) &* w4 &+ x16(r1 + 2 * colStep) &* w5, &a0, &a1)
                                accumulate(x16(r2) &* w6 &+ x16(r2 + colStep) &* w7, &a0, &a1)
                                accumulate(x16(r2 + 2 * colStep) &* w8, &a0, &a1)
                                store(q0.apply(a0), q1.apply(a1), o)
                                window += windowStep
                                o += outputShape.c
                            }
                            for ox in xEnd..<outputShape.w { edge3x3(ox) }
                            continue
                        }
                        #endif
                        guard fullRows && count == 16 && xBegin < xEnd else {
                            for ox in 0..<outputShape.w { edge(ox) }
                            continue
                        }
                        for ox in 0..<xBegin { edge(ox) }
                        for _ in xBegin..<xEnd {
                            var a0 = folded0, a1 = folded1
                            var t = 0
                            while t < taps {
                                let ky = t / kernelW, kx = t % kernelW
                                var p = x16(window + ky * rowStep + kx * colStep) &* x16(w + t * cPad)
                                if t + 1 < taps {
                                    let ky1 = (t + 1) / kernelW, kx1 = (t + 1) % kernelW
                                    p &+= x16(window + ky1 * rowStep + kx1 * colStep) &* x16(w + (t + 1) * cPad)
                                }
                                accumulate(p, &a0, &a1)
                                t += 2
                            }
                            store(q0.apply(a0), q1.apply(a1), o)
                            window += windowStep
                            o += outputShape.c
                        }
                        for ox in xEnd..<outputShape.w { edge(ox) }
                    }
                }
            }
        }
    }
}
