import CQuantaHost
import QuantaKernels

/// The float convolutions calibration and `quanta eval` run — standard (groups 1), grouped
/// and depthwise (multiplier 1) — vectorized across output channels, **bit-identical** to
/// `FloatReference.conv2D`: each output lane sums its bias and then its taps in the
/// reference's order (ky, kx, input channel; padded taps skipped), one rounded multiply
/// and one rounded add per product (no fused multiply-add), so every float it writes is
/// the reference's. Calibration ranges, and so the quantized models, do not change.
///
/// Weights are repacked once per layer (`init`), input channel by input channel with the
/// output channels contiguous. Host-side code (QuantaCompiler): the runtime never runs
/// float kernels.
struct FastFloatConv {
    /// The layer's weights as the kernels read them: for groups 1 per 16 output channels
    /// `[ky][kx][i][16]` (`quanta_float_pointwise`'s and `quanta_float_conv_tile6`'s blocks,
    /// zeros past the last channel); `[ky][kx][c]` for depthwise and per group
    /// `[ky][kx][i][oc]` for grouped layers, output channels padded to a multiple of 8.
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
    /// Whether the layer is 1×1, stride 1, unpadded (`quanta_float_pointwise` takes it whole).
    let pointwise: Bool

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
            pointwise = false
            return
        }
        groups = 1
        paddedOutputs = (f.outputChannels + 7) & ~7
        // Padded to 16 for quanta_float_pointwise's blocks (the other kernels read `paddedOutputs`).
        bias = conv.bias + [Float](repeating: 0, count: ((f.outputChannels + 15) & ~15) - f.outputChannels)
        pointwise = f.kernelH == 1 && f.kernelW == 1 && p.strideH == 1 && p.strideW == 1 && p.padding == .zero
        if p.groups == 1 && f.inputChannelsPerGroup == inputChannels {
            depthwise = false
            let depth = f.kernelH * f.kernelW * f.inputChannelsPerGroup
            var w = [Float](repeating: 0, count: ((f.outputChannels + 15) / 16) * depth * 16)
            for oc in 0..<f.outputChannels {
                for ky in 0..<f.kernelH {
                    for kx in 0..<f.kernelW {
                        for i in 0..<f.inputChannelsPerGroup {
                            let k = (ky * f.kernelW + kx) * f.inputChannelsPerGroup + i
                            w[((oc / 16) * depth + k) * 16 + oc % 16] = conv.weights[f.index(oc, ky, kx, i)]
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

    /// Groups 1. A 1×1 stride-1 unpadded layer runs in `quanta_float_pointwise` (6 pixels ×
    /// 16 channels, cache-blocked); other geometries 6 interior pixels of a row at a time
    /// (`quanta_float_conv_tile6`) and the pixels whose window reaches the padding one at a
    /// time (`pixel`).
    private func runStandard(
        _ input: UnsafePointer<Float>, _ inShape: TensorShape, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ outShape: TensorShape
    ) {
        let p = parameters, f = filter
        let cin = f.inputChannelsPerGroup, cout = f.outputChannels
        if pointwise {
            // 6 pixels × 16 channels in C (the same sums in the same order), cache-blocked.
            quanta_float_pointwise(input, inShape.n * inShape.h * inShape.w, cin, w, bias, cout, output, clamp.min, clamp.max)
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
                            quanta_float_conv_tile6(
                                first, p.strideW * inShape.c, offsets.baseAddress!, offsets.count, cin, w,
                                bias, cout, output + outShape.index(b, oy, ox, 0), clamp.min, clamp.max)
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
                    pixel(input, taps: taps, w, bias, output + outShape.index(b, oy, ox, 0))
                    ox += 1
                }
            }
        }
    }

    /// One output pixel of a groups-1 layer: for each 8 output channels, the bias then
    /// every tap's input channels in order. `taps`: (tap index, offset into `input`) of the
    /// taps inside the input; `w` the 16-channel blocks of `packed`.
    @inline(__always)
    private func pixel(
        _ input: UnsafePointer<Float>, taps: [(Int, Int)], _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let cin = filter.inputChannelsPerGroup, n = paddedOutputs, cout = filter.outputChannels
        let depth = filter.kernelH * filter.kernelW * cin
        let wRaw = UnsafeRawPointer(w)
        var oc = 0
        while oc < n {
            // Channels oc ..< oc + 8: half of block oc / 16.
            let block = (oc / 16) * depth * 16 + oc % 16
            var acc = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 4 * oc, as: SIMD8<Float>.self)
            for (tap, offset) in taps {
                let a = input + offset
                for i in 0..<cin {
                    acc = acc + SIMD8(repeating: a[i]) * wRaw.loadUnaligned(fromByteOffset: 4 * (block + (tap * cin + i) * 16), as: SIMD8<Float>.self)
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

    /// Depthwise, multiplier 1: `quanta_float_depthwise` (per output pixel its taps inside
    /// the input in (ky, kx) order, 32 channels at a time).
    private func runDepthwise(
        _ input: UnsafePointer<Float>, _ inShape: TensorShape, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ outShape: TensorShape
    ) {
        let p = parameters, f = filter
        var g = quanta_float_conv_geometry(
            batches: outShape.n, input_h: inShape.h, input_w: inShape.w, channels: inShape.c, output_h: outShape.h,
            output_w: outShape.w, kernel_h: f.kernelH, kernel_w: f.kernelW, stride_h: p.strideH, stride_w: p.strideW,
            dilation_h: p.dilationH, dilation_w: p.dilationW, pad_top: p.padding.top, pad_left: p.padding.left,
            weight_stride: paddedOutputs)
        let status = quanta_float_depthwise(input, &g, w, bias, output, clamp.min, clamp.max)
        precondition(status == 0, "out of memory for a depthwise layer's tap list")
    }
}
