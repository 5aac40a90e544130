/// Int8 depthwise convolution (groups == input channels, any kernel size, stride,
/// dilation, padding and depth multiplier), vectorized over 16 channels of NHWC.
///
/// Reference: `Int8Reference.conv2D` with `groups == inputShape.c`. Computes
///
///     acc[c*M+m] = bias[c*M+m] + Σ_{valid ky,kx} w[c*M+m, ky, kx] * (in[iy, ix, c] - inputZeroPoint)
///
/// exactly as the reference (padding taps skipped): `in - inputZeroPoint` is within
/// -255...255 for an int8 zero point and `|w| ≤ 128`, so each product fits in int16
/// (`vpmullw`/`mul.8h`) and is widened into int32 accumulators. Requantization is the
/// reference's, 8 lanes at a time (`RequantizationBlock8`).
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
                    var c0 = 0
                    while c0 < channels {
                        let count = min(16, channels - c0)
                        let biasBase = packed + 4 * (m * cPad + c0)
                        let bias0 = biasBase.loadUnaligned(as: SIMD8<Int32>.self)
                        let bias1 = biasBase.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self)
                        let q0 = RequantizationBlock8(requantization, first: c0 * multiplier + m, count: count, channelStride: multiplier)
                        let q1 = RequantizationBlock8(requantization, first: (c0 + 8) * multiplier + m, count: count - 8, channelStride: multiplier)
                        let w = weights + m * taps * cPad + c0
                        let inBase = image + c0
                        for ox in 0..<outputShape.w {
                            let x0 = ox * strideW - padLeft
                            var acc0 = bias0
                            var acc1 = bias1
                            if fullRows && ox >= xBegin && ox < xEnd && count == 16 {
                                for ky in 0..<kernelH {
                                    let rowPtr = inBase + (y0 + ky * dilationH) * inRow + x0 * channels
                                    for kx in 0..<kernelW {
                                        let xv = UnsafeRawPointer(rowPtr + kx * dilationW * channels).loadUnaligned(as: SIMD16<Int8>.self)
                                        let wv = UnsafeRawPointer(w + (ky * kernelW + kx) * cPad).loadUnaligned(as: SIMD16<Int8>.self)
                                        let p = (VectorMath.widen(xv) &- zp) &* VectorMath.widen(wv)
                                        acc0 &+= VectorMath.widenLow(p)
                                        acc1 &+= VectorMath.widenHigh(p)
                                    }
                                }
                            } else {
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
                            }
                            let r0 = q0.apply(acc0)
                            let r1 = q1.apply(acc1)
                            let o = outRow + ox * outputShape.c
                            if multiplier == 1 {
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
                        c0 += 16
                    }
                }
            }
        }
    }
}
