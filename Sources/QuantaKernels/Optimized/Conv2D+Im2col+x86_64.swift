#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

extension Im2col {
    /// Whether `runAVX2` takes this convolution: one group, dilation 1 across, a window row
    /// of at most 16 bytes (`kernelW · channels`, e.g. 9 for a 3×3 stem over RGB).
    @inlinable
    static func takesAVX2(filter: FilterShape, parameters: Conv2DParameters) -> Bool {
        parameters.groups == 1 && parameters.dilationW == 1 && filter.kernelW * filter.inputChannelsPerGroup <= 16
    }

    /// The im2col convolution without the int8 gather: each window row (`kernelW · ci ≤ 16`
    /// contiguous bytes in NHWC) is loaded as 16 bytes, widened (`vpmovsxbw`) and stored
    /// straight into the GEMM's int16 panel at its place in the row (16 elements, the ones
    /// past the window row overwritten by the next store or lying in the padded tail, whose
    /// weights are 0); then the GEMM runs on the filled panel (`filledPanelAVX2`). Window
    /// rows partly or wholly outside the input, a 16-byte load that would pass the end of the
    /// input, and a store that would pass the end of the panel take the element-wise path
    /// (the zero point for padding). Same results as `run` (the reference's sums).
    ///
    /// - Precondition: as `run`; `takesAVX2(filter:parameters:)`.
    @usableFromInline
    static func runAVX2(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutableRawPointer
    ) {
        let k = depth(filter)
        let kPad = PointwiseGEMM.paddedDepth(k)
        let rowBytes = 2 * kPad
        let panelRows = PointwiseGEMM.panelRows(depth: k)
        let panel = scratch + chunkRows * k   // the scratch layout of `run`: the panel after the rows
        let panelEnd = panel + panelRows * rowBytes
        let ci = filter.inputChannelsPerGroup
        let run = filter.kernelW &* ci
        let inputRowBytes = inputShape.w &* inputShape.c
        let imageBytes = inputShape.h &* inputRowBytes
        let inputEnd = input + (inputShape.n &* imageBytes)
        let pad = Int16(truncatingIfNeeded: inputZeroPoint)
        let pixels = outputShape.n * outputShape.h * outputShape.w
        let g = GEMMOperands(
            rows: pixels, depth: k, columns: filter.outputChannels, a: input, aRowStride: k, packed: packed,
            output: output, outputRowStride: outputShape.c, requantization: requantization, panel: panel)
        let stage = AVX2GEMMOutput(requantization, first: 0, count: filter.outputChannels)
        var ox = 0, oy = 0, b = 0
        var first = 0
        while first < pixels {
            let count = min(panelRows, pixels - first)
            for r in 0..<count {
                let y0 = oy &* parameters.strideH &- parameters.padding.top
                let x0 = ox &* parameters.strideW &- parameters.padding.left
                let rowStart = panel + (r &* rowBytes)
                let inside = x0 >= 0 && x0 &+ filter.kernelW <= inputShape.w
                let image = input + (b &* imageBytes)
                for ky in 0..<filter.kernelH {
                    let iy = y0 &+ ky &* parameters.dilationH
                    let destination = rowStart + (2 &* ky &* run)
                    if inside && iy >= 0 && iy < inputShape.h {
                        let source = image + (iy &* inputRowBytes &+ x0 &* ci)
                        if source + 16 <= inputEnd && destination + 32 <= panelEnd {
                            let v = _mm256_cvtepi8_epi16(_mm_loadu_si128(UnsafeRawPointer(source).assumingMemoryBound(to: __m128i.self)))
                            _mm256_storeu_si256(destination.assumingMemoryBound(to: __m256i.self), v)
                        } else {
                            for i in 0..<run {
                                destination.storeBytes(of: Int16(source[i]), toByteOffset: 2 &* i, as: Int16.self)
                            }
                        }
                        continue
                    }
                    for kx in 0..<filter.kernelW {
                        let ix = x0 &+ kx
                        let valid = iy >= 0 && iy < inputShape.h && ix >= 0 && ix < inputShape.w
                        for c in 0..<ci {
                            let value = valid ? Int16(image[iy &* inputRowBytes &+ ix &* inputShape.c &+ c]) : pad
                            destination.storeBytes(of: value, toByteOffset: 2 &* (kx &* ci &+ c), as: Int16.self)
                        }
                    }
                }
                if k < kPad { rowStart.storeBytes(of: Int16(0), toByteOffset: 2 &* k, as: Int16.self) }
                ox &+= 1
                if ox == outputShape.w {
                    ox = 0
                    oy &+= 1
                    if oy == outputShape.h { oy = 0; b &+= 1 }
                }
            }
            PointwiseGEMM.filledPanelAVX2(g, stage, firstRow: first, rows: count)
            first += count
        }
    }
}
#endif
