import QuantaKernels
/// One op record of the layer plan, read in place:
///
///     u8 kind, u8 variant, u8 inputCount, u8 outputCount,
///     i32 scratch (index into the arena plan's scratch buffers, -1 for none),
///     u32 parameterCount,
///     u32 inputs[inputCount], u32 outputs[outputCount], i32 parameters[parameterCount]
@usableFromInline
struct OpRecord {
    @usableFromInline let reader: ByteReader
    /// Absolute file offset of the record.
    @usableFromInline let offset: Int

    @inlinable init(reader: ByteReader, offset: Int) {
        self.reader = reader
        self.offset = offset
    }

    @inlinable var kindByte: UInt8 { reader.byte(offset) }
    @inlinable var variantByte: UInt8 { reader.byte(offset + 1) }
    @inlinable var inputCount: Int { Int(reader.byte(offset + 2)) }
    @inlinable var outputCount: Int { Int(reader.byte(offset + 3)) }
    @inlinable var scratch: Int { reader.word(offset + 4) }
    @inlinable var parameterCount: Int { reader.word(offset + 8) }
    /// Bytes of the record (valid only once `parameterCount` was checked).
    @inlinable var byteCount: Int { ModelFormat.opRecordHeaderSize + 4 * (inputCount + outputCount + parameterCount) }

    @inlinable func input(_ i: Int) -> Int { reader.word(offset + 12 + 4 * i) }
    @inlinable func output(_ i: Int) -> Int { reader.word(offset + 12 + 4 * (inputCount + i)) }
    @inlinable func parameter(_ i: Int) -> Int { reader.word(offset + 12 + 4 * (inputCount + outputCount + i)) }
    @inlinable func parameter32(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: parameter(i)) }
}

/// Parameter word positions of each op kind (see docs/FORMAT.md). A constant is two
/// words: offset into the constants section, length in bytes.
@usableFromInline
enum OpLayout {
    // conv2D
    @usableFromInline static let convStride = 0, convDilation = 2, convPadding = 4, convGroups = 8, convFilter = 9
    @usableFromInline static let convClamp = 13, convWeights = 15, convBias = 17, convMultipliers = 19, convShifts = 21
    /// Packed weights of an optimized variant (`OptimizedConv2D.packWeights`); length 0 for `.reference`.
    @usableFromInline static let convPackedWeights = 23
    // transposeConv2D
    @usableFromInline static let tconvStride = 0, tconvPadding = 2, tconvOutputPadding = 6, tconvFilter = 8
    @usableFromInline static let tconvClamp = 12, tconvWeights = 14, tconvBias = 16, tconvMultipliers = 18, tconvShifts = 20
    // fullyConnected
    @usableFromInline static let fcOutputCount = 0, fcInputCount = 1, fcClamp = 2
    @usableFromInline static let fcWeights = 4, fcBias = 6, fcMultipliers = 8, fcShifts = 10
    /// Packed weights of the `.pointwise` variant (`PointwiseGEMM.pack`); length 0 for `.reference`.
    @usableFromInline static let fcPackedWeights = 12
    // averagePool, maxPool: kernel 2, stride 2, padding 4, clamp 2
    @usableFromInline static let poolKernel = 0, poolStride = 2, poolPadding = 4, poolClamp = 8
}

extension Model {
    @inlinable func opRecord(_ i: Int) -> OpRecord {
        OpRecord(reader: reader, offset: opsSection + reader.word(opsSection + 8 + 4 * i))
    }

    /// Absolute file offset of a constant whose reference starts at parameter word `p`.
    @inlinable func constantPointer(_ op: OpRecord, _ p: Int) -> UnsafeRawPointer {
        base + constantsSection + op.parameter(p)
    }
    @inlinable func constantLength(_ op: OpRecord, _ p: Int) -> Int { op.parameter(p + 1) }
}

extension OpRecord {
    /// A `stridedCopy` record's view: words 0–5 the dims, 6–11 the strides, 12 the base
    /// (validation checks it with `StridedCopyGeometry.reads(within:)`).
    @inlinable var stridedCopyGeometry: StridedCopyGeometry {
        let rank = StridedCopyGeometry.rank
        var view = StridedCopyGeometry(dims: .init(repeating: 1), strides: .init(repeating: 0), base: parameter(2 * rank))
        for a in 0..<rank {
            view.dims[a] = parameter(a)
            view.strides[a] = parameter(rank + a)
        }
        return view
    }
}
