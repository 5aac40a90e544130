import QuantaKernels

/// The float convolutions calibration and `quanta eval` run — standard (groups 1), grouped
/// and depthwise (multiplier 1) — vectorized across output channels, **bit-identical** to
/// `FloatReference.conv2D`: each output lane sums its bias and then its taps in the
/// reference's order (ky, kx, input channel; padded taps skipped), one rounded multiply
/// and one rounded add per product (no fused multiply-add), so every float it writes is
/// the reference's. Calibration ranges, and so the quantized models, do not change.
///
/// Weights are repacked once per layer (`pack`), input channel by input channel with the
/// output channels contiguous. Host-side code (QuantaCompiler): the runtime never runs
/// float kernels.
struct FastFloatConv {
    /// The layer's weights as the kernels read them: `[ky][kx][i][oc]` for groups 1 and
    /// `[ky][kx][c]` for depthwise, output channels padded to a multiple of 8 with zeros.
    let packed: [Float]
    let bias: [Float]
    let filter: FilterShape
    let parameters: Conv2DParameters
    let clamp: FloatClamp
    let depthwise: Bool
    /// Output channels rounded up to a multiple of 8 (of one group for a grouped layer).
    let paddedOutputs: Int
    /// Groups of a grouped layer (1 < groups < channels), 1 otherwise.
    let groups: Int

    /// nil for the layers the fast kernels do not take (depth multiplier ≠ 1): those stay on
    /// the reference kernel.
    init?(_ conv: ConvolutionOp, inputChannels: Int) {
        let f = conv.filter, p = conv.parameters
        guard conv.weights.count == f.elementCount, conv.bias.count == f.outputChannels else { return nil }
        filter = f
        parameters = p
        clamp = conv.clamp
        if p.groups > 1 && p.groups < inputChannels && f.inputChannelsPerGroup * p.groups == inputChannels
            && f.outputChannels % p.groups == 0 {
            // Grouped: per group the standard layout of its own output channels, padded to 8.
            let perGroup = f.outputChannels / p.groups
            depthwise = false
            groups = p.groups
            paddedOutputs = (perGroup + 7) & ~7
            var w = [Float](repeating: 0, count: p.groups * f.kernelH * f.kernelW * f.inputChannelsPerGroup * paddedOutputs)
            var b = [Float](repeating: 0, count: p.groups * paddedOutputs)
            let groupSize = f.kernelH * f.kernelW * f.inputChannelsPerGroup * paddedOutputs
            for g in 0..<p.groups {
                for j in 0..<perGroup {
                    let oc = g * perGroup + j
                    b[g * paddedOutputs + j] = conv.bias[oc]
                    for ky in 0..<f.kernelH {
                        for kx in 0..<f.kernelW {
                            for i in 0..<f.inputChannelsPerGroup {
                                w[g * groupSize + ((ky * f.kernelW + kx) * f.inputChannelsPerGroup + i) * paddedOutputs + j] = conv.weights[f.index(oc, ky, kx, i)]
                            }
                        }
                    }
                }
            }
            packed = w
            bias = b
            return
        }
        groups = 1
        paddedOutputs = (f.outputChannels + 7) & ~7
        bias = conv.bias + [Float](repeating: 0, count: paddedOutputs - f.outputChannels)
        if p.groups == 1 && f.inputChannelsPerGroup == inputChannels {
            depthwise = false
            var w = [Float](repeating: 0, count: f.kernelH * f.kernelW * f.inputChannelsPerGroup * paddedOutputs)
            for oc in 0..<f.outputChannels {
                for ky in 0..<f.kernelH {
                    for kx in 0..<f.kernelW {
                        for i in 0..<f.inputChannelsPerGroup {
                            w[((ky * f.kernelW + kx) * f.inputChannelsPerGroup + i) * paddedOutputs + oc] = conv.weights[f.index(oc, ky, kx, i)]
                        }
                    }
                }
            }
            packed = w
        } else if p.groups == inputChannels && f.inputChannelsPerGroup == 1 && f.outputChannels == inputChannels {
            depthwise = true
            var w = [Float](repeating: 0, count: f.kernelH * f.kernelW * paddedOutputs)
            for c in 0..<f.outputChannels {
                for ky in 0..<f.kernelH {
                    for kx in 0..<f.kernelW { w[(ky * f.kernelW + kx) * paddedOutputs + c] = conv.weights[f.index(c, ky, kx, 0)] }
                }
            }
            packed = w
        } else {
            return nil
        }
    }

    /// `FloatReference.conv2D` of this layer, the same bits.
    /// - Precondition: the shapes `FloatExecutor` checked (input channels, output shape).
    func run(input: UnsafePointer<Float>, inputShape: TensorShape, output: UnsafeMutablePointer<Float>, outputShape: TensorShape) {
        packed.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                if depthwise {
                    runDepthwise(input, inputShape, w.baseAddress!, b.baseAddress!, output, outputShape)
                } else if groups > 1 {
                    runGrouped(input, inputShape, w.baseAddress!, b.baseAddress!, output, outputShape)
                } else {
                    runStandard(input, inputShape, w.baseAddress!, b.baseAddress!, output, outputShape)
                }
            }
        }
    }

    @inline(__always)
    private func clamped(_ v: SIMD8<Float>) -> SIMD8<Float> {
        // As `FloatClamp.apply`, min(max(x, lo), hi), lane by lane with the standard
        // library's definitions (max(x, y) = y >= x ? y : x, min(x, y) = y < x ? y : x): the
        // same bits for ±0 and NaN too.
        let lo = SIMD8<Float>(repeating: clamp.min), hi = SIMD8<Float>(repeating: clamp.max)
        let t = v.replacing(with: lo, where: lo .>= v)
        return t.replacing(with: hi, where: hi .< t)
    }

    @inline(__always)
    private func store(_ v: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        let c = clamped(v)
        if count >= 8 {
            UnsafeMutableRawPointer(out).storeBytes(of: c, as: SIMD8<Float>.self)
        } else {
            for k in 0..<count { out[k] = c[k] }
        }
    }

    /// Groups 1. A 1×1 stride-1 unpadded layer runs 6 pixels × 16 channels at a time (the
    /// weights loaded once for the 6); other geometries 6 interior pixels of a row at a time
    /// (`tile6`) and the pixels whose window reaches the padding one at a time (`pixel`).
    private func runStandard(
        _ input: UnsafePointer<Float>, _ inShape: TensorShape, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ outShape: TensorShape
    ) {
        let p = parameters, f = filter
        let cin = f.inputChannelsPerGroup, cout = f.outputChannels, n = paddedOutputs
        let wRaw = UnsafeRawPointer(w), bRaw = UnsafeRawPointer(bias)
        if f.kernelH == 1 && f.kernelW == 1 && p.strideH == 1 && p.strideW == 1 && p.padding == .zero {
            let pixels = inShape.n * inShape.h * inShape.w
            var px = 0
            // 6 pixels × 16 channels: 12 accumulators, enough independent multiply → add
            // chains to keep both pipes busy (4 × 16 left them waiting on the add latency).
            // Its own loop rather than `tile6` with one tap: six pointers stepped by one
            // float each are faster than `tile6`'s indexed loads (quantize of MobileNetV2
            // 1.0/224 on 64 samples 1.57 s against 1.79 s).
            while px + 6 <= pixels {
                let a0 = input + px * cin, a1 = a0 + cin, a2 = a1 + cin, a3 = a2 + cin, a4 = a3 + cin, a5 = a4 + cin
                var oc = 0
                while oc < n {
                    let two = oc + 8 < n
                    let b0 = bRaw.loadUnaligned(fromByteOffset: 4 * oc, as: SIMD8<Float>.self)
                    let b1 = two ? bRaw.loadUnaligned(fromByteOffset: 4 * (oc + 8), as: SIMD8<Float>.self) : .zero
                    var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1
                    var c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1
                    // Pointer steps only in the k loop (no checked index arithmetic).
                    var row = wRaw + 4 &* oc
                    let rowStep = 4 &* n
                    var x0p = a0, x1p = a1, x2p = a2, x3p = a3, x4p = a4, x5p = a5
                    for _ in 0..<cin {
                        let w0 = row.loadUnaligned(as: SIMD8<Float>.self)
                        let w1 = two ? row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) : .zero
                        var x = SIMD8(repeating: x0p.pointee)
                        c00 = c00 + x * w0; c01 = c01 + x * w1
                        x = SIMD8(repeating: x1p.pointee)
                        c10 = c10 + x * w0; c11 = c11 + x * w1
                        x = SIMD8(repeating: x2p.pointee)
                        c20 = c20 + x * w0; c21 = c21 + x * w1
                        x = SIMD8(repeating: x3p.pointee)
                        c30 = c30 + x * w0; c31 = c31 + x * w1
                        x = SIMD8(repeating: x4p.pointee)
                        c40 = c40 + x * w0; c41 = c41 + x * w1
                        x = SIMD8(repeating: x5p.pointee)
                        c50 = c50 + x * w0; c51 = c51 + x * w1
                        row += rowStep
                        x0p += 1; x1p += 1; x2p += 1; x3p += 1; x4p += 1; x5p += 1
                    }
                    let first = min(8, cout - oc), second = min(8, cout - oc - 8)
                    let out = output + px * cout + oc
                    store(c00, out, count: first)
                    store(c10, out + cout, count: first)
                    store(c20, out + 2 * cout, count: first)
                    store(c30, out + 3 * cout, count: first)
                    store(c40, out + 4 * cout, count: first)
                    store(c50, out + 5 * cout, count: first)
                    if two && second > 0 {
                        store(c01, out + 8, count: second)
                        store(c11, out + cout + 8, count: second)
                        store(c21, out + 2 * cout + 8, count: second)
                        store(c31, out + 3 * cout + 8, count: second)
                        store(c41, out + 4 * cout + 8, count: second)
                        store(c51, out + 5 * cout + 8, count: second)
                    }
                    oc += two ? 16 : 8
                }
                px += 6
            }
            while px < pixels {
                pixel(input + px * cin, taps: [(0, 0)], inputW: 0, w, bias, output + px * cout)
                px += 1
            }
            return
        }
        var taps: [(Int, Int)] = []  // (tap index, input offset) of the taps inside the input
        taps.reserveCapacity(f.kernelH * f.kernelW)
        // The whole window's offsets from a pixel's first tap (for the interior tiles).
        var windowOffsets: [Int] = []
        for ky in 0..<f.kernelH {
            for kx in 0..<f.kernelW { windowOffsets.append((ky * p.dilationH * inShape.w + kx * p.dilationW) * inShape.c) }
        }
        // Output columns whose window lies inside the row: xBegin ..< xEnd.
        let xBegin = min(outShape.w, (p.padding.left + p.strideW - 1) / p.strideW)
        let lastStart = inShape.w - 1 - (f.kernelW - 1) * p.dilationW + p.padding.left
        let xEnd = lastStart >= 0 ? max(xBegin, min(outShape.w, lastStart / p.strideW + 1)) : xBegin
        for b in 0..<outShape.n {
            for oy in 0..<outShape.h {
                let y0 = oy * p.strideH - p.padding.top
                let rowsInside = y0 >= 0 && y0 + (f.kernelH - 1) * p.dilationH < inShape.h
                var ox = 0
                while ox < outShape.w {
                    if rowsInside && ox >= xBegin && ox + 6 <= xEnd {
                        // Six interior pixels at once, every tap inside the input: the same
                        // sums in the same order as `pixel` (taps in (ky, kx) order, then the
                        // input channels).
                        let first = input + inShape.index(b, y0, ox * p.strideW - p.padding.left, 0)
                        windowOffsets.withUnsafeBufferPointer { offsets in
                            tile6(first, pixelStep: p.strideW * inShape.c, offsets: offsets, w, bias, output + outShape.index(b, oy, ox, 0))
                        }
                        ox += 6
                        continue
                    }
                    taps.removeAll(keepingCapacity: true)
                    for ky in 0..<f.kernelH {
                        let iy = y0 + ky * p.dilationH
                        if iy < 0 || iy >= inShape.h { continue }
                        for kx in 0..<f.kernelW {
                            let ix = ox * p.strideW - p.padding.left + kx * p.dilationW
                            if ix < 0 || ix >= inShape.w { continue }
                            taps.append((ky * f.kernelW + kx, inShape.index(b, iy, ix, 0)))
                        }
                    }
                    pixel(input, taps: taps, inputW: 1, w, bias, output + outShape.index(b, oy, ox, 0))
                    ox += 1
                }
            }
        }
    }

    /// Six output pixels of a groups-1 layer whose windows lie inside the input: pixel k's
    /// window starts at `first + k * pixelStep`, tap t at `offsets[t]` from there; per 16
    /// output channels (12 accumulators) the bias, then every tap's input channels in order.
    private func tile6(
        _ first: UnsafePointer<Float>, pixelStep: Int, offsets: UnsafeBufferPointer<Int>, _ w: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>
    ) {
        let cin = filter.inputChannelsPerGroup, cout = filter.outputChannels, n = paddedOutputs
        let wRaw = UnsafeRawPointer(w), bRaw = UnsafeRawPointer(bias)
        var oc = 0
        while oc < n {
            let two = oc + 8 < n
            let b0 = bRaw.loadUnaligned(fromByteOffset: 4 * oc, as: SIMD8<Float>.self)
            let b1 = two ? bRaw.loadUnaligned(fromByteOffset: 4 * (oc + 8), as: SIMD8<Float>.self) : .zero
            var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1
            var c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1
            var row = wRaw + 4 &* oc
            let rowStep = 4 &* n
            for offset in offsets {
                var x0p = first + offset
                for _ in 0..<cin {
                    let w0 = row.loadUnaligned(as: SIMD8<Float>.self)
                    let w1 = two ? row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) : .zero
                    var x = SIMD8(repeating: x0p.pointee)
                    c00 = c00 + x * w0; c01 = c01 + x * w1
                    x = SIMD8(repeating: x0p[pixelStep])
                    c10 = c10 + x * w0; c11 = c11 + x * w1
                    x = SIMD8(repeating: x0p[2 &* pixelStep])
                    c20 = c20 + x * w0; c21 = c21 + x * w1
                    x = SIMD8(repeating: x0p[3 &* pixelStep])
                    c30 = c30 + x * w0; c31 = c31 + x * w1
                    x = SIMD8(repeating: x0p[4 &* pixelStep])
                    c40 = c40 + x * w0; c41 = c41 + x * w1
                    x = SIMD8(repeating: x0p[5 &* pixelStep])
                    c50 = c50 + x * w0; c51 = c51 + x * w1
                    row += rowStep
                    x0p += 1
                }
            }
            let firstCount = min(8, cout - oc), second = min(8, cout - oc - 8)
            let out = output + oc
            store(c00, out, count: firstCount)
            store(c10, out + cout, count: firstCount)
            store(c20, out + 2 * cout, count: firstCount)
            store(c30, out + 3 * cout, count: firstCount)
            store(c40, out + 4 * cout, count: firstCount)
            store(c50, out + 5 * cout, count: firstCount)
            if two && second > 0 {
                store(c01, out + 8, count: second)
                store(c11, out + cout + 8, count: second)
                store(c21, out + 2 * cout + 8, count: second)
                store(c31, out + 3 * cout + 8, count: second)
                store(c41, out + 4 * cout + 8, count: second)
                store(c51, out + 5 * cout + 8, count: second)
            }
            oc += two ? 16 : 8
        }
    }

    /// One output pixel of a groups-1 layer: for each 8 output channels, the bias then
    /// every tap's input channels in order. `taps`: (tap index, offset into `input`) when
    /// `inputW` is 1; the single 1×1 tap at `input` when it is 0.
    @inline(__always)
    private func pixel(
        _ input: UnsafePointer<Float>, taps: [(Int, Int)], inputW: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let cin = filter.inputChannelsPerGroup, n = paddedOutputs, cout = filter.outputChannels
        let wRaw = UnsafeRawPointer(w)
        var oc = 0
        while oc < n {
            var acc = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 4 * oc, as: SIMD8<Float>.self)
            for (tap, offset) in taps {
                let a = input + offset * inputW
                for i in 0..<cin {
                    acc = acc + SIMD8(repeating: a[i]) * wRaw.loadUnaligned(fromByteOffset: 4 * ((tap * cin + i) * n + oc), as: SIMD8<Float>.self)
                }
            }
            store(acc, out + oc, count: min(8, cout - oc))
            oc += 8
        }
    }

    /// Grouped (1 < groups < channels): per output pixel and group, per 8 of the group's
    /// output channels, the bias then the taps inside the input in (ky, kx) order and the
    /// group's input channels in order — the reference's sums.
    private func runGrouped(
        _ input: UnsafePointer<Float>, _ inShape: TensorShape, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ outShape: TensorShape
    ) {
        let p = parameters, f = filter
        let cin = f.inputChannelsPerGroup, perGroup = f.outputChannels / groups, n = paddedOutputs
        let groupWeights = f.kernelH * f.kernelW * cin * n
        let wRaw = UnsafeRawPointer(w), bRaw = UnsafeRawPointer(bias)
        var taps: [Int] = []  // per tap inside the input: tap index, then input offset
        taps.reserveCapacity(2 * f.kernelH * f.kernelW)
        for b in 0..<outShape.n {
            for oy in 0..<outShape.h {
                for ox in 0..<outShape.w {
                    taps.removeAll(keepingCapacity: true)
                    for ky in 0..<f.kernelH {
                        let iy = oy * p.strideH - p.padding.top + ky * p.dilationH
                        if iy < 0 || iy >= inShape.h { continue }
                        for kx in 0..<f.kernelW {
                            let ix = ox * p.strideW - p.padding.left + kx * p.dilationW
                            if ix < 0 || ix >= inShape.w { continue }
                            taps.append(ky * f.kernelW + kx)
                            taps.append(inShape.index(b, iy, ix, 0))
                        }
                    }
                    let out = output + outShape.index(b, oy, ox, 0)
                    for g in 0..<groups {
                        let gw = wRaw + 4 * g * groupWeights
                        var oc = 0
                        while oc < perGroup {
                            var acc = bRaw.loadUnaligned(fromByteOffset: 4 * (g * n + oc), as: SIMD8<Float>.self)
                            var t = 0
                            while t < taps.count {
                                let tap = taps[t], a = input + taps[t + 1] + g * cin
                                for i in 0..<cin {
                                    acc = acc + SIMD8(repeating: a[i]) * gw.loadUnaligned(fromByteOffset: 4 * ((tap * cin + i) * n + oc), as: SIMD8<Float>.self)
                                }
                                t += 2
                            }
                            store(acc, out + g * perGroup + oc, count: min(8, perGroup - oc))
                            oc += 8
                        }
                    }
                }
            }
        }
    }

    /// Depthwise, multiplier 1: per output pixel and 8 channels, the bias then the taps
    /// inside the input in (ky, kx) order. The pixel's taps (weight row, input offset) are
    /// listed once per pixel, then every channel block walks them with pointer offsets.
    private func runDepthwise(
        _ input: UnsafePointer<Float>, _ inShape: TensorShape, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ outShape: TensorShape
    ) {
        let p = parameters, f = filter
        let c = inShape.c, n = paddedOutputs
        let wRaw = UnsafeRawPointer(w), bRaw = UnsafeRawPointer(bias)
        let tapCapacity = f.kernelH * f.kernelW
        let weightRows = UnsafeMutablePointer<UnsafeRawPointer>.allocate(capacity: tapCapacity)
        let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: tapCapacity)
        defer {
            weightRows.deallocate()
            inputs.deallocate()
        }
        for b in 0..<outShape.n {
            for oy in 0..<outShape.h {
                for ox in 0..<outShape.w {
                    var taps = 0
                    for ky in 0..<f.kernelH {
                        let iy = oy * p.strideH - p.padding.top + ky * p.dilationH
                        if iy < 0 || iy >= inShape.h { continue }
                        for kx in 0..<f.kernelW {
                            let ix = ox * p.strideW - p.padding.left + kx * p.dilationW
                            if ix < 0 || ix >= inShape.w { continue }
                            inputs[taps] = input + inShape.index(b, iy, ix, 0)
                            weightRows[taps] = wRaw + 4 * (ky * f.kernelW + kx) * n
                            taps += 1
                        }
                    }
                    let out = output + outShape.index(b, oy, ox, 0)
                    var c0 = 0
                    while c0 + 8 <= c {
                        var acc = bRaw.loadUnaligned(fromByteOffset: 4 * c0, as: SIMD8<Float>.self)
                        for t in 0..<taps {
                            let x = UnsafeRawPointer(inputs[t] + c0).loadUnaligned(as: SIMD8<Float>.self)
                            acc = acc + x * weightRows[t].loadUnaligned(fromByteOffset: 4 * c0, as: SIMD8<Float>.self)
                        }
                        store(acc, out + c0, count: 8)
                        c0 += 8
                    }
                    if c0 < c {
                        let count = c - c0
                        var acc = bRaw.loadUnaligned(fromByteOffset: 4 * c0, as: SIMD8<Float>.self)
                        for t in 0..<taps {
                            var x = SIMD8<Float>.zero
                            for k in 0..<count { x[k] = inputs[t][c0 + k] }
                            acc = acc + x * weightRows[t].loadUnaligned(fromByteOffset: 4 * c0, as: SIMD8<Float>.self)
                        }
                        store(acc, out + c0, count: count)
                    }
                }
            }
        }
    }
}
