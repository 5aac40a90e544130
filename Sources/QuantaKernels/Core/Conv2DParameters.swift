/// Explicit padding in pixels on each side; may be asymmetric (e.g. 2×2 kernels, or
/// TensorFlow "SAME" with stride 2).
@frozen
public struct Padding: Equatable, Hashable, Sendable {
    public var top: Int
    public var left: Int
    public var bottom: Int
    public var right: Int

    @inlinable
    public init(top: Int = 0, left: Int = 0, bottom: Int = 0, right: Int = 0) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    @inlinable
    public static func uniform(_ p: Int) -> Padding { Padding(top: p, left: p, bottom: p, right: p) }

    public static let zero = Padding()
}

/// The geometry of a convolution or pooling window: stride, dilation, padding, and for
/// convolutions the number of groups.
///
/// `groups == 1` is a standard convolution, `groups == inputChannels` a depthwise
/// convolution (with depth multiplier `outputChannels / inputChannels`), anything in
/// between a grouped convolution. Input and output channels are both multiples of `groups`.
@frozen
public struct Conv2DParameters: Equatable, Hashable, Sendable {
    public var strideH: Int
    public var strideW: Int
    public var dilationH: Int
    public var dilationW: Int
    public var padding: Padding
    public var groups: Int

    @inlinable
    public init(
        strideH: Int = 1, strideW: Int = 1, dilationH: Int = 1, dilationW: Int = 1,
        padding: Padding = .zero, groups: Int = 1
    ) {
        self.strideH = strideH
        self.strideW = strideW
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.padding = padding
        self.groups = groups
    }

    /// Output size along one axis: `floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1`.
    /// Returns 0 or less when the (dilated) kernel does not fit in the padded input.
    @inlinable
    public static func outputSize(
        input: Int, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int
    ) -> Int {
        let effective = dilation * (kernel - 1) + 1
        let span = input + padBefore + padAfter - effective
        if span < 0 { return 0 }
        return span / stride + 1
    }

    /// Output size of a transposed convolution along one axis:
    /// `stride*(in-1) + outputPadding + dilation*(k-1) + 1 - padBefore - padAfter`.
    @inlinable
    public static func transposedOutputSize(
        input: Int, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int,
        outputPadding: Int = 0
    ) -> Int {
        stride * (input - 1) + outputPadding + dilation * (kernel - 1) + 1 - padBefore - padAfter
    }

    /// The NHWC output shape of this convolution for `input` and `filter`.
    @inlinable
    public func outputShape(input: TensorShape, filter: FilterShape) -> TensorShape {
        TensorShape(
            n: input.n,
            h: Conv2DParameters.outputSize(
                input: input.h, kernel: filter.kernelH, stride: strideH, dilation: dilationH,
                padBefore: padding.top, padAfter: padding.bottom),
            w: Conv2DParameters.outputSize(
                input: input.w, kernel: filter.kernelW, stride: strideW, dilation: dilationW,
                padBefore: padding.left, padAfter: padding.right),
            c: filter.outputChannels)
    }
}

/// Geometry of a pooling window (average or max). Padded positions are excluded from
/// averages (count_include_pad = 0, as TFLite and ONNX's default).
@frozen
public struct PoolParameters: Equatable, Hashable, Sendable {
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padding: Padding

    @inlinable
    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padding: Padding = .zero) {
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.padding = padding
    }

    @inlinable
    public func outputShape(input: TensorShape) -> TensorShape {
        TensorShape(
            n: input.n,
            h: Conv2DParameters.outputSize(
                input: input.h, kernel: kernelH, stride: strideH, dilation: 1,
                padBefore: padding.top, padAfter: padding.bottom),
            w: Conv2DParameters.outputSize(
                input: input.w, kernel: kernelW, stride: strideW, dilation: 1,
                padBefore: padding.left, padAfter: padding.right),
            c: input.c)
    }
}
