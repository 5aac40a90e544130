import QuantaKernels

/// A validated `.qmodel` file, read in place.
///
/// `init(bytes:)` checks everything before the first invoke (see docs/FORMAT.md):
/// header, checksum, every section, offset and length against the file, every tensor,
/// every op's parameters, constants and shapes, and the arena plan. After it succeeds,
/// an `Interpreter` over this model can only read the model bytes and read/write its
/// arena within bounds.
///
/// The model never copies the file: `bytes` must stay valid and unchanged for as long as
/// this value or any interpreter built from it is used. Creating a model allocates nothing.
public struct Model {
    /// The whole file.
    public let bytes: UnsafeRawBufferPointer
    @usableFromInline let base: UnsafeRawPointer
    /// Absolute offset of the first tensor record.
    @usableFromInline let tensorRecords: Int
    public let tensorCount: Int
    /// Absolute offset of the ops section.
    @usableFromInline let opsSection: Int
    @usableFromInline let opsLength: Int
    public let opCount: Int
    /// Absolute offset and length of the constants section.
    @usableFromInline let constantsSection: Int
    @usableFromInline let constantsLength: Int
    /// Absolute offset of the arena section.
    @usableFromInline let arenaSection: Int
    /// Bytes the arena must hold (the plan's size).
    public let arenaSize: Int
    /// The largest total size of buffers alive at one step (no plan can be smaller).
    public let arenaLowerBound: Int
    public let scratchCount: Int
    @usableFromInline let ioSection: Int
    public let inputCount: Int
    public let outputCount: Int
    @usableFromInline let namesSection: Int
    @usableFromInline let namesLength: Int

    /// Reads and validates a model. `bytes` must start on a 16-byte boundary.
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public init(bytes: UnsafeRawBufferPointer) throws(ModelError) {
        let size = bytes.count
        guard let base = bytes.baseAddress else { throw .truncated(needed: ModelFormat.headerSize, fileSize: 0) }
        let reader = ByteReader(base: base)
        guard size >= 4 else { throw .truncated(needed: ModelFormat.headerSize, fileSize: size) }
        let magic = reader.u32(0)
        guard magic == ModelFormat.magic else { throw .badMagic(found: magic) }
        guard size >= 8 else { throw .truncated(needed: ModelFormat.headerSize, fileSize: size) }
        let version = reader.u32(4)
        guard version == ModelFormat.version else {
            throw .unsupportedVersion(found: version, supported: ModelFormat.version)
        }
        guard size >= ModelFormat.headerSize else { throw .truncated(needed: ModelFormat.headerSize, fileSize: size) }
        let stated = reader.word(8)
        guard stated >= ModelFormat.headerSize else { throw .invalidHeader(field: .headerSize, value: stated) }
        guard stated <= size else { throw .truncated(needed: stated, fileSize: size) }
        guard stated == size else { throw .sizeMismatch(stated: stated, actual: size) }
        let stored = reader.u64(ModelFormat.checksumOffset)
        let computed = ModelFormat.checksum(bytes)
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        let address = UInt(bitPattern: base)
        guard address % UInt(ModelFormat.alignment) == 0 else {
            throw .misalignedBuffer(address: address, required: ModelFormat.alignment)
        }
        let headerSize = reader.word(12)
        guard headerSize == ModelFormat.headerSize else { throw .invalidHeader(field: .headerSize, value: headerSize) }
        let sectionCount = reader.word(24)
        guard sectionCount == ModelSection.directoryCount else {
            throw .invalidHeader(field: .sectionCount, value: sectionCount)
        }
        let flags = reader.word(28)
        guard flags == 0 else { throw .invalidHeader(field: .flags, value: flags) }

        // Section directory.
        func section(_ s: ModelSection) throws(ModelError) -> (offset: Int, length: Int) {
            let entry = ModelFormat.directoryOffset + 8 * Int(s.rawValue)
            let offset = reader.word(entry)
            let length = reader.word(entry + 4)
            guard offset >= ModelFormat.headerSize, length >= 0, Checked.fits(offset, length, in: size) else {
                throw .offsetOutOfBounds(section: s, offset: offset, length: length, fileSize: size)
            }
            guard offset % ModelFormat.alignment == 0 else { throw .misaligned(section: s, offset: offset) }
            return (offset, length)
        }
        let tensors = try section(.tensors)
        let ops = try section(.ops)
        let constants = try section(.constants)
        let arena = try section(.arena)
        let io = try section(.io)
        let names = try section(.names)

        // Fixed-size parts of each section.
        func counted(_ s: (offset: Int, length: Int), _ which: ModelSection, headerWords: Int)
            throws(ModelError)
        {
            guard s.length >= 4 * headerWords else {
                throw .offsetOutOfBounds(section: which, offset: 0, length: 4 * headerWords, fileSize: s.length)
            }
        }
        try counted(tensors, .tensors, headerWords: 2)
        try counted(ops, .ops, headerWords: 2)
        try counted(arena, .arena, headerWords: 4)
        try counted(io, .io, headerWords: 2)

        let tensorCount = reader.word(tensors.offset)
        guard tensorCount >= 0,
            let recordBytes = Checked.mul(tensorCount, ModelFormat.tensorRecordSize),
            Checked.fits(8, recordBytes, in: tensors.length)
        else {
            throw .offsetOutOfBounds(
                section: .tensors, offset: 8, length: tensorCount &* ModelFormat.tensorRecordSize,
                fileSize: tensors.length)
        }
        let opCount = reader.word(ops.offset)
        guard opCount >= 0, let tableBytes = Checked.mul(opCount, 4), Checked.fits(8, tableBytes, in: ops.length) else {
            throw .offsetOutOfBounds(section: .ops, offset: 8, length: opCount &* 4, fileSize: ops.length)
        }

        // Arena plan.
        let arenaSize = reader.word(arena.offset)
        let lowerBound = reader.word(arena.offset + 4)
        let planTensorCount = reader.word(arena.offset + 8)
        let scratchCount = reader.word(arena.offset + 12)
        guard arenaSize >= 0 else { throw .invalidCount(section: .arena, found: arenaSize, expected: 0) }
        guard lowerBound >= 0, lowerBound <= arenaSize else {
            throw .invalidLowerBound(lowerBound: lowerBound, arenaSize: arenaSize)
        }
        guard planTensorCount == tensorCount else {
            throw .invalidCount(section: .arena, found: planTensorCount, expected: tensorCount)
        }
        guard scratchCount >= 0,
            let scratchBytes = Checked.mul(scratchCount, 8),
            let planBytes = Checked.add(tensorCount * 4, scratchBytes),
            Checked.fits(16, planBytes, in: arena.length)
        else {
            throw .offsetOutOfBounds(section: .arena, offset: 16, length: 0, fileSize: arena.length)
        }

        // Inputs and outputs.
        let inputCount = reader.word(io.offset)
        let outputCount = reader.word(io.offset + 4)
        guard inputCount >= 0, outputCount >= 0, let ioBytes = Checked.add(inputCount, outputCount),
            let ioTotal = Checked.mul(ioBytes, 4), Checked.fits(8, ioTotal, in: io.length)
        else {
            throw .offsetOutOfBounds(section: .io, offset: 8, length: 0, fileSize: io.length)
        }

        self.bytes = bytes
        self.base = base
        self.tensorRecords = tensors.offset + 8
        self.tensorCount = tensorCount
        self.opsSection = ops.offset
        self.opsLength = ops.length
        self.opCount = opCount
        self.constantsSection = constants.offset
        self.constantsLength = constants.length
        self.arenaSection = arena.offset
        self.arenaSize = arenaSize
        self.arenaLowerBound = lowerBound
        self.scratchCount = scratchCount
        self.ioSection = io.offset
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.namesSection = names.offset
        self.namesLength = names.length

        try validateTensors()
        try validateScratch()
        try validateIO()
        try validateNames()
        try validateOps()
        try validateLifetimes()
    }
}

/// Little-endian field reads from the model bytes. Every 32-bit field is read as a signed
/// `Int32` widened to `Int`, so that values above `Int32.max` (including the `none`
/// sentinel, -1) come out negative and fail the range checks that follow.
@usableFromInline
struct ByteReader {
    @usableFromInline let base: UnsafeRawPointer

    @inlinable init(base: UnsafeRawPointer) { self.base = base }

    @inlinable func word(_ offset: Int) -> Int {
        Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    }
    @inlinable func u32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable func u64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
    @inlinable func float(_ offset: Int) -> Float { Float(bitPattern: u32(offset)) }
}

/// Overflow-checked arithmetic for validation (`nil` on overflow).
@usableFromInline
enum Checked {
    @inlinable static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }
    @inlinable static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }
    /// Whether `offset ..< offset + length` lies in `0 ..< limit` (all non-negative, no overflow).
    @inlinable static func fits(_ offset: Int, _ length: Int, in limit: Int) -> Bool {
        guard offset >= 0, length >= 0, let end = add(offset, length) else { return false }
        return end <= limit
    }
    /// `a * b * c * d`, or nil on overflow.
    @inlinable static func product(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Int? {
        guard let ab = mul(a, b), let abc = mul(ab, c) else { return nil }
        return mul(abc, d)
    }
}
