/// The shape of an activation tensor in NHWC order.
///
/// Every activation in Quanta is NHWC. A vector (the output of a fully connected
/// layer, a squeeze-excite gate) is `n × 1 × 1 × c`.
@frozen
public struct TensorShape: Equatable, Hashable, Sendable {
    public var n: Int
    public var h: Int
    public var w: Int
    public var c: Int

    @inlinable
    public init(n: Int = 1, h: Int, w: Int, c: Int) {
        self.n = n
        self.h = h
        self.w = w
        self.c = c
    }

    /// `n * h * w * c`. Callers validate shapes (with checked arithmetic) before this is used.
    @inlinable
    public var elementCount: Int { n * h * w * c }

    /// Linear index of element (b, y, x, ch) in NHWC order.
    @inlinable
    public func index(_ b: Int, _ y: Int, _ x: Int, _ ch: Int) -> Int {
        ((b * h + y) * w + x) * c + ch
    }
}

/// The shape of a convolution filter in OHWI order: `outputChannels × kernelH × kernelW ×
/// inputChannelsPerGroup`.
///
/// A depthwise filter (groups == input channels) therefore has `inputChannelsPerGroup == 1`
/// and `outputChannels == inputChannels * depthMultiplier`.
@frozen
public struct FilterShape: Equatable, Hashable, Sendable {
    public var outputChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var inputChannelsPerGroup: Int

    @inlinable
    public init(outputChannels: Int, kernelH: Int, kernelW: Int, inputChannelsPerGroup: Int) {
        self.outputChannels = outputChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.inputChannelsPerGroup = inputChannelsPerGroup
    }

    @inlinable
    public var elementCount: Int { outputChannels * kernelH * kernelW * inputChannelsPerGroup }

    /// Linear index of weight (o, ky, kx, i) in OHWI order.
    @inlinable
    public func index(_ o: Int, _ ky: Int, _ kx: Int, _ i: Int) -> Int {
        ((o * kernelH + ky) * kernelW + kx) * inputChannelsPerGroup + i
    }
}
