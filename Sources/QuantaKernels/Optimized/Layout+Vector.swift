import CQuantaKernels

/// Vectorized int8 data movement: the same results as `Layout`'s reference loops (which
/// copy one element at a time), with NEON loops on aarch64 and armv7
/// (Sources/CQuantaKernels/layout-neon.c) and `memcpy` per pixel row elsewhere.
public enum VectorLayout {
    /// `Layout.concatChannels` for int8: `out[p, channelOffset + i] = in[p, i]`.
    /// - Precondition: `channelOffset + inputChannels <= outputChannels`; no overlap.
    public static func concatChannels(
        input: UnsafePointer<Int8>, inputChannels: Int, output: UnsafeMutablePointer<Int8>,
        outputChannels: Int, channelOffset: Int, pixels: Int
    ) {
        precondition(channelOffset >= 0 && inputChannels >= 0 && channelOffset + inputChannels <= outputChannels,
                     "concatChannels: slice outside the output channels")
        copyRows(output + channelOffset, outputChannels, input, inputChannels, bytes: inputChannels, rows: pixels)
    }

    /// `Layout.sliceChannels` for int8: `out[p, i] = in[p, start + i]`.
    /// - Precondition: `start + count <= inputChannels`; no overlap.
    public static func sliceChannels(
        input: UnsafePointer<Int8>, inputChannels: Int, output: UnsafeMutablePointer<Int8>,
        start: Int, count: Int, pixels: Int
    ) {
        precondition(start >= 0 && count >= 0 && start + count <= inputChannels,
                     "sliceChannels: slice outside the input channels")
        copyRows(output, count, input + start, inputChannels, bytes: count, rows: pixels)
    }

    /// `Layout.channelShuffle` for int8: `out[p, j * groups + g] = in[p, g * (C / groups) + j]`
    /// (two groups, ShuffleNet's, as interleaving stores on ARM).
    /// - Precondition: `groups > 0`, `C % groups == 0`; no overlap.
    public static func channelShuffle(input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, shape: TensorShape, groups: Int) {
        precondition(groups > 0 && shape.c % groups == 0, "channelShuffle: channels must be a multiple of groups")
        #if arch(arm64) || arch(arm)
        if groups == 2 {
            quanta_channel_shuffle2(input, output, shape.c / 2, shape.n * shape.h * shape.w)
            return
        }
        #endif
        Layout.channelShuffle(input: input, output: output, shape: shape, groups: groups)
    }

    /// `Layout.interleaveChannels` of two inputs at once for int8: `out[p, 2j] = a[p, j]`,
    /// `out[p, 2j + 1] = b[p, j]` (`st2` on ARM).
    /// - Precondition: no overlap of the output with the inputs.
    public static func interleave2(
        _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, channels: Int, output: UnsafeMutablePointer<Int8>, pixels: Int
    ) {
        precondition(channels >= 0 && pixels >= 0, "interleave2: negative size")
        #if arch(arm64) || arch(arm)
        quanta_interleave2(a, b, output, channels, pixels)
        #else
        // 8 pairs per step as one 16-byte store (LLVM: punpcklbw); a last partial step
        // overlapping (the same values again); pixels narrower than 8 channels pair by pair.
        guard channels >= 8 else {
            Layout.interleaveChannels(input: a, channels: channels, output: output, groups: 2, group: 0, pixels: pixels)
            Layout.interleaveChannels(input: b, channels: channels, output: output, groups: 2, group: 1, pixels: pixels)
            return
        }
        for p in 0..<pixels {
            let x = UnsafeRawPointer(a + p &* channels), y = UnsafeRawPointer(b + p &* channels)
            let o = UnsafeMutableRawPointer(output + 2 &* p &* channels)
            @inline(__always) func pairs(_ j: Int) {
                let u = x.loadUnaligned(fromByteOffset: j, as: SIMD8<Int8>.self)
                let v = y.loadUnaligned(fromByteOffset: j, as: SIMD8<Int8>.self)
                var r = SIMD16<Int8>()
                for i in 0..<8 {
                    r[2 &* i] = u[i]
                    r[2 &* i &+ 1] = v[i]
                }
                o.storeBytes(of: r, toByteOffset: 2 &* j, as: SIMD16<Int8>.self)
            }
            var j = 0
            while j &+ 8 <= channels {
                pairs(j)
                j &+= 8
            }
            if j < channels { pairs(channels &- 8) }
        }
        #endif
    }

    @inline(__always)
    static func copyRows(_ dst: UnsafeMutablePointer<Int8>, _ dstStride: Int, _ src: UnsafePointer<Int8>, _ srcStride: Int,
                         bytes: Int, rows: Int) {
        if bytes <= 0 || rows <= 0 { return }
        #if arch(arm64) || arch(arm)
        quanta_copy_rows(dst, dstStride, src, srcStride, bytes, rows)
        #else
        if dstStride == bytes && srcStride == bytes {
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: bytes * rows)
            return
        }
        for r in 0..<rows {
            UnsafeMutableRawPointer(dst + r * dstStride).copyMemory(from: src + r * srcStride, byteCount: bytes)
        }
        #endif
    }
}

/// Vectorized int8 max pooling: `Int8Reference.maxPool` bit for bit (NEON `smax` over the
/// window, 16 channels at a time, on aarch64 and armv7; 16-lane SIMD compares elsewhere;
/// the reference loop for fewer than 16 channels there).
public enum VectorPool {
    /// - Precondition: as `Int8Reference.maxPool` (every window holds an input pixel).
    public static func maxPool(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int32, clampMax: Int32
    ) {
        #if arch(arm64) || arch(arm)
        var p = operands(input: input, inputShape: inputShape, output: output, outputShape: outputShape, parameters: parameters,
                         clampMin: clampMin, clampMax: clampMax)
        quanta_max_pool(&p)
        #else
        guard inputShape.c >= 16, clampMin >= -128 && clampMin <= clampMax && clampMax <= 127 else {
            Int8Reference.maxPool(input: input, inputShape: inputShape, output: output, outputShape: outputShape,
                                  parameters: parameters, clampMin: clampMin, clampMax: clampMax)
            return
        }
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1, "maxPool: stride must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape), "maxPool: output shape mismatch")
        maxPool16(input: input, inputShape: inputShape, output: output, outputShape: outputShape, parameters: parameters,
                  clampMin: Int8(truncatingIfNeeded: clampMin), clampMax: Int8(truncatingIfNeeded: clampMax))
        #endif
    }

    /// Int8 average pooling (`quanta_average_pool`, C on every target: int32 sums the
    /// compiler vectorizes, then the rounding division per value): `Int8Reference.averagePool`
    /// bit for bit.
    /// - Precondition: as `Int8Reference.averagePool` (whose int32 sum traps where this
    ///   one's would wrap: windows of 2^24 input pixels or more).
    public static func averagePool(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int32, clampMax: Int32
    ) {
        var p = operands(input: input, inputShape: inputShape, output: output, outputShape: outputShape, parameters: parameters,
                         clampMin: clampMin, clampMax: clampMax)
        quanta_average_pool(&p)
    }

    /// The C pooling kernels' operands, after the checks they rely on (positive strides,
    /// the output shape, the clamp inside int8).
    static func operands(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int32, clampMax: Int32
    ) -> quanta_pool {
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1, "pool: stride must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape), "pool: output shape mismatch")
        precondition(clampMin >= -128 && clampMin <= clampMax && clampMax <= 127, "pool: clamp outside int8")
        return quanta_pool(
            input: input, output: output, batches: inputShape.n, input_h: inputShape.h, input_w: inputShape.w,
            channels: inputShape.c, output_h: outputShape.h, output_w: outputShape.w,
            kernel_h: parameters.kernelH, kernel_w: parameters.kernelW, stride_h: parameters.strideH,
            stride_w: parameters.strideW, pad_top: parameters.padding.top, pad_left: parameters.padding.left,
            clamp_min: clampMin, clamp_max: clampMax)
    }

    /// 16 channels at a time (SSE/AVX2 `pmaxsb` on x86): per output pixel the maximum over the
    /// window's taps inside the input, then the clamp; a last partial block is computed as
    /// the last 16 channels (the overlap gets the same values again).
    /// - Precondition: at least 16 channels; the clamp bounds inside int8; every window holds
    ///   an input pixel; output does not alias input.
    @inline(__always)
    static func maxPool16(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int8, clampMax: Int8
    ) {
        let c = inputShape.c
        let lo = SIMD16<Int8>(repeating: clampMin), hi = SIMD16<Int8>(repeating: clampMax)
        for b in 0..<outputShape.n {
            let image = input + b &* inputShape.h &* inputShape.w &* c
            for oy in 0..<outputShape.h {
                let y0 = oy &* parameters.strideH &- parameters.padding.top
                let ky0 = max(0, -y0), ky1 = min(parameters.kernelH, inputShape.h &- y0)
                for ox in 0..<outputShape.w {
                    let x0 = ox &* parameters.strideW &- parameters.padding.left
                    let kx0 = max(0, -x0), kx1 = min(parameters.kernelW, inputShape.w &- x0)
                    precondition(ky1 > ky0 && kx1 > kx0, "maxPool: a window lies entirely in the padding")
                    let pixel: Int = (b &* outputShape.h &+ oy) &* outputShape.w &+ ox
                    let out = UnsafeMutableRawPointer(output + pixel &* c)
                    var c0 = 0
                    while c0 < c {
                        if c0 &+ 16 > c { c0 = c &- 16 }
                        var m = SIMD16<Int8>(repeating: .min)
                        for ky in ky0..<ky1 {
                            let start: Int = ((y0 &+ ky) &* inputShape.w &+ x0) &* c &+ c0
                            let row = UnsafeRawPointer(image + start)
                            for kx in kx0..<kx1 {
                                let v = row.loadUnaligned(fromByteOffset: kx &* c, as: SIMD16<Int8>.self)
                                m.replace(with: v, where: v .> m)
                            }
                        }
                        m.replace(with: lo, where: lo .> m)
                        m.replace(with: hi, where: hi .< m)
                        out.storeBytes(of: m, toByteOffset: c0, as: SIMD16<Int8>.self)
                        c0 &+= 16
                    }
                }
            }
        }
    }
}
