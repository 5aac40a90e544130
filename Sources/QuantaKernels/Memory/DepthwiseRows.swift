/// Where the input rows of a row-at-a-time kernel live: rows `>= firstTensorRow` in the
/// tensor (NHWC rows of `rowBytes`, row `r` at `tensor + r * rowBytes`), rows below it in a
/// ring buffer of `ringRows` slots (row `r` in slot `r % ringRows`).
///
/// The fused inverted-residual block reads every row from its ring
/// (`firstTensorRow == Int.max`); the in-place depthwise convolution reads the rows it has
/// already overwritten from its ring and the others from the tensor.
@frozen
public struct RowSource {
    public var tensor: UnsafePointer<Int8>
    public var ring: UnsafePointer<Int8>
    public var ringRows: Int
    public var rowBytes: Int
    public var firstTensorRow: Int

    @inlinable
    public init(tensor: UnsafePointer<Int8>, ring: UnsafePointer<Int8>, ringRows: Int, rowBytes: Int, firstTensorRow: Int) {
        self.tensor = tensor
        self.ring = ring
        self.ringRows = ringRows
        self.rowBytes = rowBytes
        self.firstTensorRow = firstTensorRow
    }

    /// The first byte of input row `r` (`r >= 0`).
    @inlinable
    public func row(_ r: Int) -> UnsafePointer<Int8> {
        r >= firstTensorRow ? tensor + r * rowBytes : ring + (r % ringRows) * rowBytes
    }
}

/// One output row of a depthwise convolution at a time, reading its input rows through a
/// `RowSource`. Gives `Int8Reference.conv2D`'s results bit for bit (same accumulator terms,
/// same requantization) for depthwise convolutions (`groups == inputChannels`, one input
/// channel per group, output channel `o` reads input channel `o / multiplier`).
public enum DepthwiseRows {
    /// Computes output row `oy` (batch item 0 of the rows in `rows`) into `output`
    /// (`outputWidth * filter.outputChannels` bytes):
    ///
    ///     acc[x, o] = bias[o] + Σ_{ky,kx} w[o,ky,kx] * (in[oy*sh - pt + ky*dh, x*sw - pl + kx*dw, o / m] - inputZeroPoint)
    ///     out[x, o] = clamp(zpOut + MBQM(acc, multiplier[o], shift[o]), clampMin, clampMax)
    ///
    /// Positions in the padding contribute nothing (as the reference).
    ///
    /// - Precondition: `inputHeight`, `inputWidth`, `channels` describe the rows of `rows`
    ///   (`rows.rowBytes == inputWidth * channels`); `filter.inputChannelsPerGroup == 1`,
    ///   `filter.outputChannels` a multiple of `channels`; every row the window touches is
    ///   readable through `rows`; `output` does not overlap those rows.
    @inlinable
    public static func computeRow(
        _ oy: Int, rows: RowSource, inputHeight: Int, inputWidth: Int, channels: Int, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        output: UnsafeMutablePointer<Int8>, outputWidth: Int, parameters: Conv2DParameters,
        requantization: Requantization
    ) {
        let outputChannels = filter.outputChannels
        let multiplier = outputChannels / channels
        let kh = filter.kernelH, kw = filter.kernelW
        let originY = oy * parameters.strideH - parameters.padding.top
        for ox in 0..<outputWidth {
            let originX = ox * parameters.strideW - parameters.padding.left
            let out = output + ox * outputChannels
            for o in 0..<outputChannels {
                let c = o / multiplier
                var acc: Int32 = bias?[o] ?? 0
                for ky in 0..<kh {
                    let iy = originY + ky * parameters.dilationH
                    if iy < 0 || iy >= inputHeight { continue }
                    let row = rows.row(iy)
                    let wRow = weights + (o * kh + ky) * kw
                    for kx in 0..<kw {
                        let ix = originX + kx * parameters.dilationW
                        if ix < 0 || ix >= inputWidth { continue }
                        acc += Int32(wRow[kx]) * (Int32(row[ix * channels + c]) - inputZeroPoint)
                    }
                }
                out[o] = Int8Reference.requantize(acc, channel: o, requantization)
            }
        }
    }
}
