#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
/// ONNX Resize's `coordinate_transformation_mode` for linear resizing: where output index
/// `x` of an axis of `outputSize` (input `inputSize`, scale `s`) samples the input.
public enum ResizeCoordinateTransform: Int, Equatable, Hashable, Sendable {
    /// `(x + 0.5) / s - 0.5` (ONNX default from opset 11; TFLite `half_pixel_centers`).
    case halfPixel = 0
    /// `outputSize > 1 ? (x + 0.5) / s - 0.5 : 0` (PyTorch `align_corners=False`).
    case pytorchHalfPixel = 1
    /// `outputSize > 1 ? x · (inputSize - 1) / (outputSize - 1) : 0` (TFLite `align_corners`).
    case alignCorners = 2
    /// `x / s` (Upsample, Resize opset 10, TFLite default).
    case asymmetric = 3

    /// The source coordinate of output index `x`, in Double, before clamping.
    @inlinable
    public func sourceCoordinate(_ x: Int, scale: Double, inputSize: Int, outputSize: Int) -> Double {
        switch self {
        case .halfPixel: return (Double(x) + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return outputSize > 1 ? (Double(x) + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return outputSize > 1 ? Double(x) * Double(inputSize - 1) / Double(outputSize - 1) : 0
        case .asymmetric: return Double(x) / scale
        }
    }

    /// The two input indices output index `x` interpolates and the weight of the second, as
    /// ONNX Runtime's linear Resize computes them: the source coordinate clamped to
    /// `[0, inputSize - 1]`, `i0 = floor`, `i1 = min(i0 + 1, inputSize - 1)`,
    /// `w1 = coordinate - i0` in `[0, 1)` (0 when `i0 == i1`).
    @inlinable
    public func bilinearSource(_ x: Int, scale: Double, inputSize: Int, outputSize: Int) -> (i0: Int, i1: Int, w1: Double) {
        var c = sourceCoordinate(x, scale: scale, inputSize: inputSize, outputSize: outputSize)
        c = max(0, min(c, Double(inputSize - 1)))
        let i0 = min(Int(c), inputSize - 1)
        let i1 = min(i0 + 1, inputSize - 1)
        return (i0, i1, i0 == i1 ? 0 : c - Double(i0))
    }
}

/// Bilinear resize of H and W: the transform and the per-axis scales (ONNX `scales`, or
/// `outputSize / inputSize` when `sizes` were given).
public struct ResizeBilinearParameters: Equatable, Hashable, Sendable {
    public var transform: ResizeCoordinateTransform
    public var scaleH: Double
    public var scaleW: Double

    @inlinable
    public init(transform: ResizeCoordinateTransform, scaleH: Double, scaleW: Double) {
        self.transform = transform
        self.scaleH = scaleH
        self.scaleW = scaleW
    }
}

extension FloatReference {
    /// Bilinear resize (ONNX Resize `linear` on H, W): with `(y0, y1, wy)` and `(x0, x1, wx)`
    /// from `ResizeCoordinateTransform.bilinearSource`,
    /// `out = (1-wy)((1-wx)·in[y0,x0] + wx·in[y0,x1]) + wy((1-wx)·in[y1,x0] + wx·in[y1,x1])`.
    /// Equals ONNX Runtime to float rounding. Any sizes (up- and downsampling, non-integer
    /// ratios); no antialiasing.
    ///
    /// - Precondition: N and C of input and output agree; H, W >= 1; scales > 0; no overlap.
    public static func resizeBilinear(
        input: UnsafePointer<Float>, inputShape: TensorShape, output: UnsafeMutablePointer<Float>,
        outputShape: TensorShape, parameters: ResizeBilinearParameters
    ) {
        precondition(inputShape.n == outputShape.n && inputShape.c == outputShape.c, "resizeBilinear: N or C differ")
        precondition(inputShape.h >= 1 && inputShape.w >= 1 && outputShape.h >= 1 && outputShape.w >= 1, "resizeBilinear: empty")
        precondition(parameters.scaleH > 0 && parameters.scaleW > 0, "resizeBilinear: scale not positive")
        let t = parameters.transform
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                let sy = t.bilinearSource(y, scale: parameters.scaleH, inputSize: inputShape.h, outputSize: outputShape.h)
                let wy = Float(sy.w1)
                for x in 0..<outputShape.w {
                    let sx = t.bilinearSource(x, scale: parameters.scaleW, inputSize: inputShape.w, outputSize: outputShape.w)
                    let wx = Float(sx.w1)
                    let p00 = inputShape.index(b, sy.i0, sx.i0, 0), p01 = inputShape.index(b, sy.i0, sx.i1, 0)
                    let p10 = inputShape.index(b, sy.i1, sx.i0, 0), p11 = inputShape.index(b, sy.i1, sx.i1, 0)
                    let to = outputShape.index(b, y, x, 0)
                    for ch in 0..<outputShape.c {
                        let top = (1 - wx) * input[p00 + ch] + wx * input[p01 + ch]
                        let bottom = (1 - wx) * input[p10 + ch] + wx * input[p11 + ch]
                        output[to + ch] = (1 - wy) * top + wy * bottom
                    }
                }
            }
        }
    }
}
#endif
