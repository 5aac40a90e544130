import QuantaKernels

#if _endian(big)
#error("The .qmodel format is little-endian and is read in place: big-endian hosts are not supported")
#endif

/// Constants of the `.qmodel` file format (see docs/FORMAT.md), shared by the reader
/// (QuantaRuntime) and the writer (QuantaCompiler).
///
/// All fields are little-endian 32-bit words unless stated; the file is read in place.
public enum ModelFormat {
    /// `"QMDL"` read as a little-endian `UInt32`.
    public static let magic: UInt32 = 0x4C44_4D51
    /// The only version this reader accepts. Version 2: conv2D records carry a packed-weights
    /// constant and may name an optimized kernel variant. Version 3: fully connected
    /// records carry a packed-weights constant too (variant `.pointwise`); add may name
    /// `.elementwise` (same-shape operands). Version 4: the GEMM variants' scratch holds
    /// `PointwiseGEMM.panelRows(depth:)` rows of int16 panel (6...48 rows, a function of
    /// the depth) instead of 8. Variant `.pointwiseU8` (7) came within version 4: files
    /// without it are unchanged, and an older reader rejects it as an unsupported variant.
    public static let version: UInt32 = 4
    /// Size of the fixed header, including the section directory.
    public static let headerSize = 80
    /// Byte offset of the 64-bit checksum in the header.
    public static let checksumOffset = 16
    /// Byte offset of the section directory (`sectionCount` entries of `{offset, length}`).
    public static let directoryOffset = 32
    /// Sections, the constants inside the constants section, and the arena base are
    /// aligned to this many bytes.
    public static let alignment = 16
    /// Size of one tensor record in the tensors section.
    public static let tensorRecordSize = 32
    /// Size of the fixed part of an op record (kind, variant, counts, scratch, parameter count).
    public static let opRecordHeaderSize = 12
    /// Encodes "none" in index and offset fields (`0xFFFF_FFFF`, read as -1).
    public static let none: UInt32 = 0xFFFF_FFFF
    /// Largest accepted kernel size, stride, dilation, padding or output padding: keeps every
    /// shape computation far from overflow, also where `Int` has 32 bits.
    public static let maxGeometry = 4096
    /// Largest accepted tensor dimension.
    public static let maxDimension = 1 << 24

    /// FNV-1a 64 over `bytes`, reading the 8 checksum bytes of the header as zero.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01b3
        var i = 0
        let count = bytes.count
        while i < count {
            let inField = i >= checksumOffset && i < checksumOffset + 8
            hash = (hash ^ UInt64(inField ? 0 : bytes[i])) &* prime
            i += 1
        }
        return hash
    }
}

/// The sections of a `.qmodel` file, in directory order.
@frozen
public enum ModelSection: UInt8, Equatable, Sendable, CaseIterable {
    case header = 255
    case tensors = 0
    case ops = 1
    case constants = 2
    case arena = 3
    case io = 4
    case names = 5

    /// Number of entries in the section directory.
    public static let directoryCount = 6
}

/// The op kinds of the layer plan. The raw value is the byte stored in each op record.
@frozen
public enum OpKind: UInt8, Equatable, Sendable {
    case conv2D = 0
    case transposeConv2D = 1
    case fullyConnected = 2
    case add = 3
    case mul = 4
    case averagePool = 5
    case maxPool = 6
    case globalAveragePool = 7
    case channelShuffle = 8
    case concat = 9
    case sliceChannels = 10
    case pad = 11
    case softmax = 12
    case lookupTable = 13
    case reshape = 14
    /// A depthwise convolution (multiplier 1, stride 1, same shape) whose output may
    /// overwrite its input; conv2D's parameter words, plus an arena scratch ring.
    case depthwiseConv2DInPlace = 15
    /// Expand 1×1 → depthwise → project 1×1 (→ residual add) a row at a time through an
    /// arena scratch ring (`InvertedResidual`); see docs/FORMAT.md.
    case invertedResidual = 16
    /// Reflect/edge padding (`Layout.borderPad`).
    case borderPad = 20
    /// Nearest upsampling by integer factors (`Layout.upsampleNearest`).
    case upsampleNearest = 21
    /// Bilinear resize (`Int8Reference.resizeBilinear`).
    case resizeBilinear = 22
    /// A concat of G ≥ 2 inputs of one shape followed by a channel shuffle of G groups, in
    /// one pass (`Layout.interleaveChannels`): `out[p, j·G + g] = input_g[p, j]`. No
    /// parameters; the inputs and the output share quantization. Made by the compiler's
    /// memory passes (ShuffleNet's concat → shuffle), so that no concat tensor is written.
    case interleaveChannels = 23
    /// A dense copy of a strided view of the input (`Layout.stridedCopy`): transposes,
    /// strided and reversed slices. Words: `dims[6]`, `strides[6]` (elements, any sign),
    /// `base`. Input and output share quantization.
    case stridedCopy = 24

    /// Number of 32-bit parameter words an op record of this kind carries. A constant
    /// reference is two words: offset into the constants section and length in bytes.
    public var parameterCount: Int {
        switch self {
        case .conv2D: return 15 + 10  // geometry 9, filter 4, clamp 2, 5 constants (the last: packed weights)
        case .transposeConv2D: return 14 + 8  // stride 2, padding 4, output padding 2, filter 4, clamp 2, 4 constants
        case .fullyConnected: return 4 + 10  // outputCount, inputCount, clamp 2, 5 constants (the last: packed weights)
        case .add: return 12
        case .mul: return 7
        case .averagePool, .maxPool: return 10
        case .globalAveragePool: return 2
        case .channelShuffle: return 1
        case .concat: return 0
        case .sliceChannels: return 2
        case .pad: return 5
        case .softmax: return 2
        case .lookupTable: return 2
        case .reshape: return 0
        case .depthwiseConv2DInPlace: return 15 + 10  // conv2D's words (packed weights empty)
        case .invertedResidual: return OpLayout.irWordCount
        case .borderPad: return 5  // pad ×4, mode (0 reflect, 1 edge)
        case .upsampleNearest: return 2  // factorH, factorW
        case .resizeBilinear: return 4  // rows, columns: 2 constants of [i0, i1, w1] int32 triples
        case .interleaveChannels: return 0
        case .stridedCopy: return 13
        }
    }

    /// Name used in reports (`quanta inspect`).
    public var name: StaticString {
        switch self {
        case .conv2D: return "conv2d"
        case .transposeConv2D: return "transpose_conv2d"
        case .fullyConnected: return "fully_connected"
        case .add: return "add"
        case .mul: return "mul"
        case .averagePool: return "average_pool"
        case .maxPool: return "max_pool"
        case .globalAveragePool: return "global_average_pool"
        case .channelShuffle: return "channel_shuffle"
        case .concat: return "concat"
        case .sliceChannels: return "slice_channels"
        case .pad: return "pad"
        case .softmax: return "softmax"
        case .lookupTable: return "lookup_table"
        case .reshape: return "reshape"
        case .depthwiseConv2DInPlace: return "depthwise_in_place"
        case .invertedResidual: return "inverted_residual"
        case .borderPad: return "border_pad"
        case .upsampleNearest: return "upsample_nearest"
        case .resizeBilinear: return "resize_bilinear"
        case .interleaveChannels: return "interleave_channels"
        case .stridedCopy: return "strided_copy"
        }
    }
}

/// The kernel variant byte of an op record is `QuantaKernels.KernelVariant`'s raw value
/// (chosen by the compiler, switched on by the interpreter).
extension KernelVariant {
    /// Whether the interpreter runs ops of `kind` with this variant. Every kind runs
    /// `.reference`; the optimized variants run convolutions, `.pointwise` also fully
    /// connected layers, `.doubleScaled` only fully connected layers, `.floatTable` only softmax, `.elementwise` same-shape adds, same-shape or per-channel-gate muls and global average pooling (packed weights in the record, scratch in the arena plan;
    /// validation then checks `applies` for the op's shapes, the packed length and the
    /// scratch size).
    public func supports(_ kind: OpKind) -> Bool {
        switch self {
        case .reference: return true
        case .pointwise: return kind == .conv2D || kind == .fullyConnected
        case .elementwise: return kind == .add || kind == .mul || kind == .globalAveragePool
        case .depthwise, .depthwise3x3: return kind == .conv2D || kind == .depthwiseConv2DInPlace
        case .doubleScaled: return kind == .fullyConnected
        case .floatTable, .logFloatTable: return kind == .softmax
        default: return kind == .conv2D
        }
    }
}

/// Layout of a model input or output in the source model; Quanta itself holds NHWC.
@frozen
public enum TensorLayout: UInt8, Equatable, Sendable {
    /// Already NHWC.
    case nhwc = 0
    /// The source tensor was `[N, C, H, W]`.
    case nchw = 1
    /// The source tensor was `[N, C]`; Quanta holds it as `N × 1 × 1 × C`.
    case nc = 2
}

/// Where a tensor's bytes live.
@frozen
public enum TensorStorage: UInt8, Equatable, Sendable {
    /// An activation at a planned offset in the arena.
    case arena = 0
    /// A constant operand in the model's constants section (read-only).
    case constant = 1
}
