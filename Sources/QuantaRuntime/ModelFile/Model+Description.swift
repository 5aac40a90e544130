import QuantaKernels

/// A read-only description of one op of the plan, for reports (`quanta inspect`).
/// Shapes, quantization and arena offsets of the operands are in `Model.tensor(_:)`.
public struct OpDescription: Equatable {
    public var kind: OpKind
    public var variant: KernelVariant
    /// Tensor indices read by the op, in operand order.
    public var inputs: [Int]
    /// Tensor indices written by the op.
    public var outputs: [Int]
    /// Bytes of constants the op reads (weights, packed weights, bias, multipliers, shifts, tables).
    public var constantBytes: Int
    /// Bytes of int8 weights (convolution and fully connected filters; 0 otherwise).
    public var weightBytes: Int
    /// Multiply-accumulates of one invoke (convolutions and fully connected; 0 otherwise).
    public var multiplyAccumulates: Int
    /// Offset and size of the op's scratch buffer in the arena, if it has one.
    public var scratchOffset: Int?
    public var scratchSize: Int
}

extension Model {
    /// Description of op `i` (`0 ..< opCount`). Allocates (arrays): for reports only.
    @_optimize(size)
    public func op(_ i: Int) -> OpDescription {
        precondition(i >= 0 && i < opCount, "op index out of range")
        let op = opRecord(i)
        let kind = OpKind(rawValue: op.kindByte) ?? .reshape
        var constantBytes = 0
        var weightBytes = 0
        var macs = 0
        let L = OpLayout.self
        @_optimize(size)
        func sum(_ words: [Int]) -> Int { words.reduce(0) { $0 + op.parameter($1 + 1) } }
        let out = shape(op.output(0))
        switch kind {
        case .conv2D, .depthwiseConv2DInPlace:
            constantBytes = sum([L.convWeights, L.convBias, L.convMultipliers, L.convShifts, L.convPackedWeights])
            // The filter's element count (an optimized variant stores only its packed block).
            weightBytes = op.parameter(L.convFilter) * op.parameter(L.convFilter + 1) * op.parameter(L.convFilter + 2)
                * op.parameter(L.convFilter + 3)
            macs = out.elementCount * op.parameter(L.convFilter + 1) * op.parameter(L.convFilter + 2)
                * op.parameter(L.convFilter + 3)
        case .transposeConv2D:
            constantBytes = sum([L.tconvWeights, L.tconvBias, L.tconvMultipliers, L.tconvShifts])
            weightBytes = op.parameter(L.tconvWeights + 1)
            macs = shape(op.input(0)).elementCount * weightBytes / max(1, op.parameter(L.tconvFilter + 3))
        case .fullyConnected:
            constantBytes = sum([L.fcWeights, L.fcBias, L.fcMultipliers, L.fcShifts, L.fcPackedWeights])
            weightBytes = op.parameter(L.fcOutputCount) * op.parameter(L.fcInputCount)
            macs = out.n * weightBytes
        case .softmax, .lookupTable:
            constantBytes = sum([0])
        case .invertedResidual:
            let g = invertedResidualGeometry(op)
            let stages = [L.irExpand, L.irDepthwise, L.irProject]
            constantBytes = sum(stages.flatMap { [$0 + 2, $0 + 4, $0 + 6, $0 + 8] } + [L.irPacked, L.irPacked + 2, L.irPacked + 4])
            // The filters' element counts (an optimized stage stores only its packed block).
            weightBytes = g.expandFilter.elementCount + g.depthwiseFilter.elementCount + g.projectFilter.elementCount
            let d = g.depthwiseShape
            // The expand stage may be a kh×kw stem convolution (MobileNet's first layer).
            macs = g.expandedShape.elementCount * g.expandKernelH * g.expandKernelW * g.inputShape.c
                + d.elementCount * g.kernelH * g.kernelW
                + d.n * d.h * d.w * g.outputChannels * g.expandedChannels
        default:
            break
        }
        let s = op.scratch
        return OpDescription(
            kind: kind, variant: KernelVariant(rawValue: op.variantByte) ?? .reference,
            inputs: (0..<op.inputCount).map { op.input($0) }, outputs: (0..<op.outputCount).map { op.output($0) },
            constantBytes: constantBytes, weightBytes: weightBytes, multiplyAccumulates: macs,
            scratchOffset: s >= 0 ? scratch(s).offset : nil, scratchSize: s >= 0 ? scratch(s).size : 0)
    }
}
