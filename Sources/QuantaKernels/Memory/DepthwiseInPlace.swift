/// Depthwise convolution whose output overwrites its input (`Int8Reference.conv2D`'s
/// results bit for bit), with a ring of input rows as scratch instead of a second tensor.
///
/// Legal when the output has the input's shape and every output byte replaces the input
/// byte at the same index: depthwise (`groups == channels`, one input channel per group),
/// depth multiplier 1, stride 1 on both axes, any kernel size, dilation and padding that
/// keep the shape (`padTop + padBottom == dilationH * (kernelH - 1)`, the same across).
///
/// Output row `oy` reads input rows `oy - padTop ... oy - padTop + dilationH*(kernelH-1)`.
/// Before row `oy` is written, input row `oy` is copied to ring slot `oy % R` with
/// `R = padTop + 1`: the overwritten rows a later output row still reads are at most
/// `padTop` rows back, so they are all in the ring; the rows below `oy` are still in the tensor.
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

    /// Rows of the ring: `padTop + 1` (at most the input height).
    @inlinable
    public static func ringRows(inputShape: TensorShape, parameters: Conv2DParameters) -> Int {
        min(parameters.padding.top + 1, inputShape.h)
    }

    /// Bytes of scratch `run` needs: `ringRows * width * channels`.
    @inlinable
    public static func scratchByteCount(inputShape: TensorShape, parameters: Conv2DParameters) -> Int {
        ringRows(inputShape: inputShape, parameters: parameters) * inputShape.w * inputShape.c
    }

    /// Runs the convolution over `data` in place: on return `data` holds the output.
    ///
    /// - Precondition: `isSupported(inputShape:filter:parameters:)`; `scratch` holds
    ///   `scratchByteCount(...)` bytes and does not overlap `data`; the accumulator bound of
    ///   `Int8Reference.conv2D` holds.
    @inlinable
    public static func run(
        data: UnsafeMutablePointer<Int8>, shape: TensorShape, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutablePointer<Int8>
    ) {
        let rowBytes = shape.w * shape.c
        let ringRows = ringRows(inputShape: shape, parameters: parameters)
        for b in 0..<shape.n {
            let base = data + b * shape.h * rowBytes
            for oy in 0..<shape.h {
                (scratch + (oy % ringRows) * rowBytes).update(from: base + oy * rowBytes, count: rowBytes)
                let rows = RowSource(
                    tensor: UnsafePointer(base), ring: UnsafePointer(scratch), ringRows: ringRows, rowBytes: rowBytes,
                    firstTensorRow: oy + 1)
                DepthwiseRows.computeRow(
                    oy, rows: rows, inputHeight: shape.h, inputWidth: shape.w, channels: shape.c,
                    inputZeroPoint: inputZeroPoint, weights: weights, filter: filter, bias: bias,
                    output: base + oy * rowBytes, outputWidth: shape.w, parameters: parameters,
                    requantization: requantization)
            }
        }
    }
}
