import QuantaKernels
import QuantaRuntime

/// The int8 model that quantization produces and the planner and model writer consume:
/// everything the `.qmodel` file holds except the arena plan.
///
/// All activations are int8 NHWC with per-tensor asymmetric quantization.
public struct QuantizedModel {
    public var tensors: [QuantizedTensor]
    public var ops: [QuantizedOp]
    /// Indices into `tensors`.
    public var inputs: [Int]
    /// Indices into `tensors`.
    public var outputs: [Int]
    /// The 1×1 layers' weights were quantized for the uint8 × int8 GEMM
    /// (`QuantizationOptions.pairBoundedWeights`): the writer stores each of those whose
    /// pairs fit as `KernelVariant.pointwiseU8`. False: every 1×1 layer keeps `.pointwise`
    /// (the fast form on ARM), whatever its weights.
    public var pairBoundedWeights = false

    public init(tensors: [QuantizedTensor] = [], ops: [QuantizedOp] = [], inputs: [Int] = [], outputs: [Int] = []) {
        self.tensors = tensors
        self.ops = ops
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// One int8 activation tensor.
public struct QuantizedTensor {
    public var name: String
    public var shape: TensorShape
    public var quantization: QuantizationParameters
    /// Layout in the source model (for graph inputs and outputs).
    public var sourceLayout: SourceLayout
    /// Constant int8 contents (NHWC), for constant activation operands; nil otherwise.
    public var data: [Int8]?

    public init(name: String, shape: TensorShape, quantization: QuantizationParameters, sourceLayout: SourceLayout = .nhwc, data: [Int8]? = nil) {
        self.name = name
        self.shape = shape
        self.quantization = quantization
        self.sourceLayout = sourceLayout
        self.data = data
    }
}

/// Per-output-channel requantization constants (see `Requantization`), as arrays.
public struct RequantizationConstants: Equatable {
    public var multipliers: [Int32]
    public var shifts: [Int32]
    public var clampMin: Int32
    public var clampMax: Int32
    /// Fully connected layers of imported `.tflite` models: the per-output scale
    /// `double(sIn)·double(sW)/double(sOut)` that LiteRT's reference kernel multiplies the
    /// accumulator by (rounding half away from zero) instead of the fixed-point multiplier.
    /// Written as `KernelVariant.doubleScaled`; nil everywhere else.
    public var doubleScales: [Double]?

    public init(multipliers: [Int32], shifts: [Int32], clampMin: Int32 = -128, clampMax: Int32 = 127) {
        self.multipliers = multipliers
        self.shifts = shifts
        self.clampMin = clampMin
        self.clampMax = clampMax
    }
}

/// One op of the int8 model. `inputs`/`outputs` index `QuantizedModel.tensors`; the
/// zero points and scales of those tensors are the op's input/output quantization.
public struct QuantizedOp {
    public var name: String
    public var kind: QuantizedOpKind
    public var inputs: [Int]
    public var outputs: [Int]

    public init(name: String, kind: QuantizedOpKind, inputs: [Int], outputs: [Int]) {
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// The int8 ops with their constants, in the TFLite int8 scheme.
public enum QuantizedOpKind {
    /// Weights OHWI int8 in [-127, 127], symmetric per output channel; bias int32 with
    /// scale `inputScale * weightScale[o]`.
    case conv2D(parameters: Conv2DParameters, filter: FilterShape, weights: [Int8], bias: [Int32], requantization: RequantizationConstants)
    case transposeConv2D(strideH: Int, strideW: Int, padding: Padding, outputPaddingH: Int, outputPaddingW: Int, filter: FilterShape, weights: [Int8], bias: [Int32], requantization: RequantizationConstants)
    /// Weights `[outputCount][inputCount]`.
    case fullyConnected(outputCount: Int, inputCount: Int, weights: [Int8], bias: [Int32], requantization: RequantizationConstants)
    /// TFLite's int8 add (see `AddQuantization`); the second input may be broadcast.
    case add(AddQuantization)
    /// TFLite's int8 mul (see `MulQuantization`); the second input may be broadcast.
    case mul(MulQuantization)
    case averagePool(PoolParameters, clampMin: Int32, clampMax: Int32)
    case maxPool(PoolParameters, clampMin: Int32, clampMax: Int32)
    /// Mean over H×W, requantized to the output scale with `multiplier`/`shift`.
    /// As in TFLite's int8 Mean, `multiplier`/`shift` = `quantizeMultiplier(inScale / outScale)`
    /// only: the kernel divides by H×W itself (see `Int8Reference.globalAveragePool`).
    case globalAveragePool(multiplier: Int32, shift: Int32)
    case channelShuffle(groups: Int)
    case concat
    /// A concat of G inputs of one shape followed by a channel shuffle of G groups:
    /// `out[p, j·G + g] = input_g[p, j]`. Made by `MemoryPasses` (ShuffleNet's concat →
    /// shuffle), not by quantization.
    case interleaveChannels
    case sliceChannels(start: Int, count: Int)
    /// Pads with the output's quantized value of the float pad value.
    case pad(Padding, value: Int8)
    /// `table[d]` = exp(-d * inputScale) in Q16 for d = max - x in 0...255; output scale
    /// 1/256, zero point -128.
    case softmax(expTable: [Int32])
    /// LiteRT's x86 int8 softmax (`KernelVariant.floatTable`): `table[d] = expf(-inputScale·β·d)`
    /// for d = max − x in 0...255, any output scale and zero point. Imported `.tflite` only.
    case softmaxFloatTable(table: [Float], outputScale: Float, outputZeroPoint: Int32)
    /// Log-softmax (`KernelVariant.logFloatTable`, `Int8Reference.logSoftmax`): the table of
    /// `softmaxFloatTable` and the input and output scales; the output's range calibrated.
    case logSoftmax(table: [Float], inputScale: Float, outputScale: Float, outputZeroPoint: Int32)
    /// A dense copy of a strided view of the input (transpose, strided slice); input and
    /// output share quantization.
    case stridedCopy(StridedView)
    /// `out = table[in + 128]`.
    case lookupTable([Int8])
    /// Same bytes, new shape (input and output share quantization).
    case reshape
    /// A depthwise `conv2D` (multiplier 1, stride 1, same shape) whose output may overwrite
    /// its input, with a ring of rows as scratch. Made by `MemoryPasses`, not by quantization.
    case depthwiseConv2DInPlace(parameters: Conv2DParameters, filter: FilterShape, weights: [Int8], bias: [Int32], requantization: RequantizationConstants)
    /// Expand 1×1 → depthwise → project 1×1 (→ residual add) run a row at a time. Made by
    /// `MemoryPasses`, not by quantization.
    case invertedResidual(FusedInvertedResidual)
    /// Reflect/edge padding: a copy, input and output share quantization.
    case borderPad(Padding, mode: BorderPadMode)
    /// Nearest upsampling by integer factors: a copy, input and output share quantization.
    case upsampleNearest(factorH: Int, factorW: Int)
    /// Bilinear resize (`Int8Reference.resizeBilinear`): `[i0, i1, w1·2^10]` per output row
    /// and per output column; input and output share quantization.
    case resizeBilinear(rows: [Int32], columns: [Int32])
}

