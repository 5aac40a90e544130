/// Depthwise convolution whose output overwrites its input (`Int8Reference.conv2D`'s
/// results bit for bit, with any `KernelVariant` that applies), with a window of input rows
/// as scratch instead of a second tensor.
///
/// Legal when the output has the input's shape and every output byte replaces the input
/// byte at the same index: depthwise (`groups == channels`, one input channel per group),
/// depth multiplier 1, stride 1 on both axes, any kernel size, dilation and padding that
/// keep the shape (`padTop + padBottom == dilationH * (kernelH - 1)`, the same across).
///
/// Output row `oy` reads input rows `oy - padTop ... oy + padBottom` (clipped to the input).
/// The window holds exactly those rows, contiguous: before row `oy` is computed, the rows
/// that left the window are dropped (a move of the others to the front) and the new rows —
/// all at or below `oy`, so not yet overwritten — are copied in from the tensor. The row is
/// then computed from the window, as a one-row convolution with the clipped rows as
/// padding, straight into the tensor.
public enum DepthwiseInPlace {
    /// Whether `conv2D(parameters, filter)` on `inputShape` may run in place.
    public static func isSupported(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Bool {
        let c = inputShape.c
        guard parameters.groups == c, filter.inputChannelsPerGroup == 1, filter.outputChannels == c,
              parameters.strideH == 1, parameters.strideW == 1, parameters.dilationH >= 1, parameters.dilationW >= 1,
              filter.kernelH >= 1, filter.kernelW >= 1, parameters.padding.top >= 0, parameters.padding.left >= 0,
              parameters.padding.bottom >= 0, parameters.padding.right >= 0
        else { return false }
        return parameters.outputShape(input: inputShape, filter: filter) == inputShape
    }

    /// Rows of the window: the kernel's height `dilationH * (kernelH - 1) + 1`, at most the input height.
    @inlinable
    public static func windowRows(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Int {
        min(parameters.dilationH * (filter.kernelH - 1) + 1, inputShape.h)
    }

    /// Bytes of scratch `run` needs: `windowRows * width * channels`.
    @inlinable
    public static func scratchByteCount(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Int {
        windowRows(inputShape: inputShape, filter: filter, parameters: parameters) * inputShape.w * inputShape.c
    }

    /// Runs the convolution over `data` in place: on return `data` holds the output.
    ///
    /// `variant` and `packedWeights` as `OptimizedConv2D.run` (a depthwise variant needs no
    /// scratch of its own; `.reference` reads `weights` and `bias`).
    ///
    /// - Precondition: `isSupported(inputShape:filter:parameters:)`; `variant` is
    ///   `.reference`, `.depthwise` or `.depthwise3x3` and applies to these shapes; `scratch` holds `scratchByteCount(...)` bytes and does not overlap
    ///   `data`; the accumulator bound of `Int8Reference.conv2D` holds.
    @inlinable
    public static func run(
        data: UnsafeMutablePointer<Int8>, shape: TensorShape, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutablePointer<Int8>,
        variant: KernelVariant = .reference, packedWeights: UnsafeRawPointer? = nil
    ) {
        #if arch(x86_64) && QUANTA_AVX2
        // The AVX2 3×3 kernel reads rows through pointers: a ring of copied rows, each copied once.
        if variant == .depthwise3x3, let packed = packedWeights, shape.c >= 16, filter.outputChannels == shape.c,
           DepthwiseAVX2.runInPlace(
               data: data, shape: shape, inputZeroPoint: inputZeroPoint, packed: packed, requantization: requantization,
               padTop: parameters.padding.top, padLeft: parameters.padding.left, scratch: scratch) {
            return
        }
        #endif
        let rowBytes = shape.w * shape.c
        let span = parameters.dilationH * (filter.kernelH - 1)
        let rowShape = TensorShape(n: 1, h: 1, w: shape.w, c: shape.c)
        for b in 0..<shape.n {
            let base = data + b * shape.h * rowBytes
            var windowFirst = 0, windowCount = 0  // rows windowFirst ..< windowFirst + windowCount
            for oy in 0..<shape.h {
                let top = oy - parameters.padding.top
                let first = max(0, top), last = min(shape.h - 1, top + span)
                RowWindow.slide(
                    window: scratch, rowBytes: rowBytes, first: &windowFirst, count: &windowCount, to: first)
                while windowFirst + windowCount <= last {
                    UnsafeMutableRawPointer(scratch + windowCount * rowBytes).copyMemory(from: base + (windowFirst + windowCount) * rowBytes, byteCount: rowBytes)
                    windowCount += 1
                }
                var rowParameters = parameters
                rowParameters.padding.top = first - top
                rowParameters.padding.bottom = top + span - last
                OptimizedConv2D.run(
                    variant: variant, input: UnsafePointer(scratch),
                    inputShape: TensorShape(n: 1, h: windowCount, w: shape.w, c: shape.c),
                    inputZeroPoint: inputZeroPoint, weights: weights, filter: filter, bias: bias,
                    output: base + oy * rowBytes, outputShape: rowShape, parameters: rowParameters,
                    requantization: requantization, packedWeights: packedWeights, scratch: nil)
            }
        }
    }
}

/// A window of consecutive rows kept contiguous at the start of a buffer.
public enum RowWindow {
    /// Drops the rows before `first` from the window `first ..< first + count` (moving the
    /// rest to the front); an empty window restarts at `first`.
    @inlinable
    public static func slide(window: UnsafeMutablePointer<Int8>, rowBytes: Int, first: inout Int, count: inout Int, to newFirst: Int) {
        guard newFirst > first else { return }
        let drop = newFirst - first
        if drop >= count {
            count = 0
        } else {
            count -= drop
            // copyMemory is memmove (the regions overlap) and a libc call; Embedded Swift's
            // update(from:count:) copies element by element (docs/PERFORMANCE-KERNELS.md).
            UnsafeMutableRawPointer(window).copyMemory(from: window + drop * rowBytes, byteCount: count * rowBytes)
        }
        first = newFirst
    }
}
