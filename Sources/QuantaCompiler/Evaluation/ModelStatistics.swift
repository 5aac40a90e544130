import QuantaKernels

/// Counts over an int8 model for summaries and reports: ops by kind, multiply-accumulates,
/// and the bytes of constants in float and in int8.
public struct ModelStatistics: Equatable {
    public var opsByKind: [String: Int] = [:]
    public var macs = 0
    /// Weights and biases as float32 (what the float model holds).
    public var floatWeightBytes = 0
    /// Weights as int8 plus int32 biases, multipliers and shifts, lookup tables.
    public var int8WeightBytes = 0

    public init(_ model: QuantizedModel) {
        for op in model.ops {
            let kind = ModelStatistics.kindName(op.kind)
            opsByKind[kind, default: 0] += 1
            let input = op.inputs.first.map { model.tensors[$0].shape }
            switch op.kind {
            case .conv2D(let parameters, let filter, let weights, let bias, let r):
                if let input { macs += OpCounts.conv2D(input: input, filter: filter, parameters: parameters).multiplyAccumulates }
                addConstants(weights: weights.count, bias: bias.count, requantization: r)
            case .transposeConv2D(_, _, _, _, _, let filter, let weights, let bias, let r):
                if let input { macs += OpCounts.transposeConv2D(input: input, filter: filter).multiplyAccumulates }
                addConstants(weights: weights.count, bias: bias.count, requantization: r)
            case .fullyConnected(let outputCount, let inputCount, let weights, let bias, let r):
                macs += (input?.n ?? 1) * inputCount * outputCount
                addConstants(weights: weights.count, bias: bias.count, requantization: r)
            case .lookupTable(let table):
                int8WeightBytes += table.count
            case .softmax(let table):
                int8WeightBytes += 4 * table.count
            case .softmaxFloatTable(let table, _, _):
                int8WeightBytes += 4 * table.count + 8
            case .logSoftmax(let table, _, _, _):
                int8WeightBytes += 4 * table.count + 12
            case .depthwiseConv2DInPlace(let parameters, let filter, let weights, let bias, let r):
                if let input { macs += OpCounts.conv2D(input: input, filter: filter, parameters: parameters).multiplyAccumulates }
                addConstants(weights: weights.count, bias: bias.count, requantization: r)
            case .invertedResidual(let b):
                let g = b.geometry
                macs += OpCounts.conv2D(input: g.inputShape, filter: g.expandFilter, parameters: g.expand).multiplyAccumulates
                macs += OpCounts.conv2D(input: g.expandedShape, filter: g.depthwiseFilter, parameters: g.depthwise).multiplyAccumulates
                macs += OpCounts.conv2D(input: g.depthwiseShape, filter: g.projectFilter, parameters: Conv2DParameters()).multiplyAccumulates
                for s in [b.expand, b.depthwise, b.project] {
                    addConstants(weights: s.weights.count, bias: s.bias.count, requantization: s.requantization)
                }
            default:
                break
            }
        }
    }

    private mutating func addConstants(weights: Int, bias: Int, requantization: RequantizationConstants) {
        floatWeightBytes += 4 * (weights + bias)
        int8WeightBytes += weights + 4 * bias + 4 * (requantization.multipliers.count + requantization.shifts.count)
    }

    /// A short name for an op kind; convolutions are named by their family.
    public static func kindName(_ kind: QuantizedOpKind) -> String {
        switch kind {
        case .conv2D(let p, let f, _, _, _):
            if p.groups == 1 { return f.kernelH == 1 && f.kernelW == 1 ? "conv 1×1" : "conv" }
            if f.inputChannelsPerGroup == 1 { return "depthwise conv" }
            return "grouped conv"
        case .transposeConv2D: return "transposed conv"
        case .fullyConnected: return "fully connected"
        case .add: return "add"
        case .mul: return "mul"
        case .averagePool: return "average pool"
        case .maxPool: return "max pool"
        case .globalAveragePool: return "global average pool"
        case .channelShuffle: return "channel shuffle"
        case .concat: return "concat"
        case .interleaveChannels: return "concat + channel shuffle"
        case .sliceChannels: return "slice channels"
        case .pad: return "pad"
        case .softmax, .softmaxFloatTable: return "softmax"
        case .logSoftmax: return "log softmax"
        case .stridedCopy: return "strided copy"
        case .lookupTable: return "lookup table"
        case .reshape: return "reshape"
        case .depthwiseConv2DInPlace: return "depthwise conv (in place)"
        case .invertedResidual: return "inverted residual (fused)"
        case .borderPad: return "border pad"
        case .upsampleNearest: return "upsample nearest"
        case .resizeBilinear: return "resize bilinear"
        }
    }
}
