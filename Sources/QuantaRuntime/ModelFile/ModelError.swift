import QuantaKernels

/// Why a `.qmodel` file or an arena was rejected. Every case names what and where;
/// offsets are in bytes.
@frozen
public enum ModelError: Error, Equatable, Sendable {
    /// The file ends before `needed` bytes (the header, or the size the header states).
    case truncated(needed: Int, fileSize: Int)
    /// The first four bytes are not `"QMDL"`.
    case badMagic(found: UInt32)
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The header states a file size smaller than the buffer (trailing bytes).
    case sizeMismatch(stated: Int, actual: Int)
    /// FNV-1a 64 of the file (checksum field read as zero) differs from the stored one.
    case checksumMismatch(stored: UInt64, computed: UInt64)
    /// The model bytes or the arena do not start at a multiple of `required` bytes.
    case misalignedBuffer(address: UInt, required: Int)
    /// A header field other than magic, version and size is invalid.
    case invalidHeader(field: HeaderField, value: Int)
    /// A region (`offset ..< offset + length`) does not fit in `fileSize` bytes; for
    /// regions inside a section, offset is relative to the section and `fileSize` is the
    /// section's length.
    case offsetOutOfBounds(section: ModelSection, offset: Int, length: Int, fileSize: Int)
    /// A section or a constant does not start on a 16-byte boundary.
    case misaligned(section: ModelSection, offset: Int)
    /// A count or size field of a section is negative or inconsistent with another.
    case invalidCount(section: ModelSection, found: Int, expected: Int)
    case invalidTensor(index: Int, reason: TensorProblem)
    case invalidOp(index: Int, reason: OpProblem)
    /// A model input or output index is not an arena tensor.
    case invalidIO(isInput: Bool, position: Int, tensor: Int)
    /// A planned buffer does not fit in the arena.
    case arenaOutOfBounds(buffer: ArenaBuffer, offset: Int, length: Int, arenaSize: Int)
    /// Two buffers that are alive at the same step share bytes (and the op does not allow
    /// working in place).
    case overlappingBuffers(first: Int, second: Int, step: Int)
    /// The arena plan states a lower bound above its size.
    case invalidLowerBound(lowerBound: Int, arenaSize: Int)
    /// The caller's arena is smaller than the model's plan needs.
    case arenaTooSmall(needed: Int, provided: Int)
    case invalidName(index: Int)
}

/// Header fields checked beyond magic, version and size.
@frozen
public enum HeaderField: UInt8, Equatable, Sendable {
    case headerSize, sectionCount, flags
}

/// A buffer of the arena plan: an activation tensor or an op's scratch buffer.
@frozen
public enum ArenaBuffer: Equatable, Sendable {
    case tensor(Int)
    case scratch(Int)
}

/// What is wrong with a tensor record.
@frozen
public enum TensorProblem: Equatable, Sendable {
    case unknownElementType(UInt8)
    case unknownStorage(UInt8)
    case unknownLayout(UInt8)
    /// A dimension outside `1...ModelFormat.maxDimension`, or an element count that overflows.
    case badShape(n: Int, h: Int, w: Int, c: Int)
    /// Scale not finite and positive, or zero point outside -128...127.
    case badQuantization
    /// A constant tensor whose bytes are outside or misaligned in the constants section.
    case badConstant(offset: Int, length: Int)
    /// A tensor that is read or written by no op and is no model input or output is fine;
    /// an arena tensor without an arena offset is not.
    case missingArenaOffset
}

/// Parameters of an op that validation checks by name.
@frozen
public enum OpParameter: UInt8, Equatable, Sendable {
    case stride, dilation, padding, outputPadding, groups, filter, clamp, zeroPoint,
         multiplier, shift, leftShift, count, start, channels, kernel, padValue, scratch
    /// `borderPad`'s mode word (0 reflect, 1 edge).
    case padMode
    /// `upsampleNearest`'s factors.
    case factor
    /// `stridedCopy`'s view: a dimension, a stride or the base.
    case view
}

/// The constants an op refers to.
@frozen
public enum OpConstant: UInt8, Equatable, Sendable {
    case weights, bias, multipliers, shifts, table
    /// An optimized convolution's packed weights (`KernelVariant.packedWeightsByteCount`).
    case packedWeights
    /// `resizeBilinear`'s row or column table (`[i0, i1, w1]` int32 triples).
    case resizeTable
}

/// What is wrong with an op record.
@frozen
public enum OpProblem: Equatable, Sendable {
    case unknownKind(UInt8)
    /// The kernel variant byte names no `KernelVariant`, or one that does not run this op
    /// kind or these shapes (`KernelVariant.supports`, `applies`).
    case unsupportedVariant(UInt8)
    case recordOutOfBounds(offset: Int)
    case wrongInputCount(found: Int, expected: Int)
    case wrongOutputCount(found: Int, expected: Int)
    case wrongParameterCount(found: Int, expected: Int)
    case tensorIndexOutOfRange(Int)
    /// Op outputs must be arena tensors.
    case outputNotInArena(tensor: Int)
    /// An output tensor's shape differs from what the op's parameters and inputs give.
    case shapeMismatch(tensor: Int, expected: TensorShape, found: TensorShape)
    case invalidParameter(OpParameter, value: Int)
    /// A constant's length differs from what its shape needs, or it is outside the
    /// constants section, or misaligned.
    case badConstant(OpConstant, offset: Int, length: Int, expectedLength: Int)
    /// Input and output quantization must match (pooling, reshape, layout ops) or the
    /// op's zero points must equal its tensors'.
    case quantizationMismatch(tensor: Int)
    /// The op's reduction could overflow its 32-bit accumulator.
    case accumulatorRange(terms: Int)
    /// The op's kernel variant needs `needed` bytes of arena scratch; its scratch buffer
    /// has `found` (0 when the op names none).
    case scratchTooSmall(needed: Int, found: Int)
    /// A depthwise-in-place op whose geometry does not keep the shape (multiplier 1,
    /// stride 1, same output shape), so its output cannot overwrite its input.
    case notRunnableInPlace
    /// A fused block's recorded ring rows or scratch part sizes differ from its geometry's.
    case scratchLayoutMismatch(word: Int, found: Int, expected: Int)
    /// `.pointwiseU8` packed weights with a pair `|w0| + |w1|` above 128 (output channel
    /// `channel`), which its uint8 × int8 kernel would not compute exactly.
    case weightPairOutOfRange(channel: Int)
    /// GEMM packed weights (`.pointwise`, `.grouped`, `.im2col`, fully connected) with a
    /// -128 at output channel `channel` (of its group's block): int8 weights are -127...127
    /// (TFLite's specification, the quantizer's range), which the NEON kernel relies on.
    case weightOutOfRange(channel: Int)
}
