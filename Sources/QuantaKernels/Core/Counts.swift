/// Size and cost of a layer: how many weights it stores and how many multiply-accumulates
/// one inference performs. Biases are counted separately and not included in `weights`.
///
/// Textbook examples: a 3×3 convolution from 3 to 4 channels has 3·3·3·4 = 108 weights; its
/// depthwise-separable replacement 3·3·3 = 27 + 3·4 = 12 = 39. A 7×7×3 input to a 5×5×128
/// output with 3×3 kernels costs 5·5·128·27 = 86,400 multiplies standard and
/// 5·5·3·9 + 5·5·3·128 = 10,275 separable.
@frozen
public struct OpCounts: Equatable, Hashable, Sendable {
    /// Stored weights (filter or matrix elements).
    public var weights: Int
    /// Bias entries (one per output channel, 0 without bias).
    public var biases: Int
    /// Multiply-accumulates for one inference of the whole batch.
    public var multiplyAccumulates: Int

    @inlinable
    public init(weights: Int, biases: Int, multiplyAccumulates: Int) {
        self.weights = weights
        self.biases = biases
        self.multiplyAccumulates = multiplyAccumulates
    }

    /// A convolution (any groups): weights `O·kH·kW·(C/G)`; MACs
    /// `n·outH·outW·O·kH·kW·(C/G)` (padding taps counted, as is conventional).
    @inlinable
    public static func conv2D(
        input: TensorShape, filter: FilterShape, parameters: Conv2DParameters, hasBias: Bool = false
    ) -> OpCounts {
        let out = parameters.outputShape(input: input, filter: filter)
        let perOutput = filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup
        return OpCounts(
            weights: filter.elementCount,
            biases: hasBias ? filter.outputChannels : 0,
            multiplyAccumulates: out.n * max(out.h, 0) * max(out.w, 0) * out.c * perOutput)
    }

    /// A transposed convolution (groups 1): every input pixel meets every weight once,
    /// `n·inH·inW·O·kH·kW·C` MACs (taps falling outside the output included).
    @inlinable
    public static func transposeConv2D(input: TensorShape, filter: FilterShape, hasBias: Bool = false) -> OpCounts {
        OpCounts(
            weights: filter.elementCount,
            biases: hasBias ? filter.outputChannels : 0,
            multiplyAccumulates: input.n * input.h * input.w * filter.elementCount)
    }

    /// A fully connected layer: `inputCount·outputCount` weights and `batches` times as many MACs.
    @inlinable
    public static func fullyConnected(
        batches: Int = 1, inputCount: Int, outputCount: Int, hasBias: Bool = false
    ) -> OpCounts {
        OpCounts(
            weights: inputCount * outputCount,
            biases: hasBias ? outputCount : 0,
            multiplyAccumulates: batches * inputCount * outputCount)
    }

    /// Sum of two layers' counts (e.g. depthwise + pointwise).
    @inlinable
    public static func + (a: OpCounts, b: OpCounts) -> OpCounts {
        OpCounts(weights: a.weights + b.weights, biases: a.biases + b.biases,
                 multiplyAccumulates: a.multiplyAccumulates + b.multiplyAccumulates)
    }
}
