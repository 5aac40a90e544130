import QuantaKernels

/// Description of one tensor of a model (for reports and for binding inputs/outputs).
public struct TensorDescription: Equatable {
    public var shape: TensorShape
    public var quantization: QuantizationParameters
    public var storage: TensorStorage
    public var sourceLayout: TensorLayout
    /// Offset in the arena, for arena tensors.
    public var arenaOffset: Int?
    /// Offset in the constants section, for constant tensors.
    public var constantOffset: Int?
    /// `shape.elementCount` (int8: one byte per element).
    public var byteCount: Int
}

extension Model {
    // Tensor record fields (offsets within the 32-byte record).
    @usableFromInline static let tensorScale = 16
    @usableFromInline static let tensorZeroPoint = 20
    @usableFromInline static let tensorElementType = 24
    @usableFromInline static let tensorStorage = 25
    @usableFromInline static let tensorLayout = 26
    @usableFromInline static let tensorConstantOffset = 28

    @inlinable var reader: ByteReader { ByteReader(base: base) }

    @inlinable func tensorRecord(_ i: Int) -> Int { tensorRecords + i * ModelFormat.tensorRecordSize }

    /// Shape of tensor `i` (valid after validation).
    @inlinable func shape(_ i: Int) -> TensorShape {
        let r = tensorRecord(i)
        return TensorShape(n: reader.word(r), h: reader.word(r + 4), w: reader.word(r + 8), c: reader.word(r + 12))
    }

    @inlinable func quantization(_ i: Int) -> QuantizationParameters {
        let r = tensorRecord(i)
        return QuantizationParameters(
            scale: reader.float(r + Model.tensorScale), zeroPoint: Int32(truncatingIfNeeded: reader.word(r + Model.tensorZeroPoint)))
    }

    @inlinable func zeroPoint(_ i: Int) -> Int32 {
        Int32(truncatingIfNeeded: reader.word(tensorRecord(i) + Model.tensorZeroPoint))
    }

    @inlinable func isArenaTensor(_ i: Int) -> Bool {
        reader.byte(tensorRecord(i) + Model.tensorStorage) == TensorStorage.arena.rawValue
    }

    /// Arena offset of tensor `i` as stored in the arena plan (-1 for constants).
    @inlinable func arenaOffset(_ i: Int) -> Int { reader.word(arenaSection + 16 + 4 * i) }

    /// Absolute file offset of constant tensor `i`'s data.
    @inlinable func constantTensorOffset(_ i: Int) -> Int {
        constantsSection + reader.word(tensorRecord(i) + Model.tensorConstantOffset)
    }

    /// Scratch buffer `k`: offset and size in the arena.
    @inlinable func scratch(_ k: Int) -> (offset: Int, size: Int) {
        let e = arenaSection + 16 + 4 * tensorCount + 8 * k
        return (reader.word(e), reader.word(e + 4))
    }

    /// Tensor index of model input `i`.
    @inlinable public func inputTensor(_ i: Int) -> Int { reader.word(ioSection + 8 + 4 * i) }
    /// Tensor index of model output `i`.
    @inlinable public func outputTensor(_ i: Int) -> Int { reader.word(ioSection + 8 + 4 * (inputCount + i)) }

    /// Everything the file says about tensor `i` (`0 ..< tensorCount`).
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public func tensor(_ i: Int) -> TensorDescription {
        precondition(i >= 0 && i < tensorCount, "tensor index out of range")
        let r = tensorRecord(i)
        let storage = TensorStorage(rawValue: reader.byte(r + Model.tensorStorage)) ?? .arena
        let s = shape(i)
        return TensorDescription(
            shape: s, quantization: quantization(i), storage: storage,
            sourceLayout: TensorLayout(rawValue: reader.byte(r + Model.tensorLayout)) ?? .nhwc,
            arenaOffset: storage == .arena ? arenaOffset(i) : nil,
            constantOffset: storage == .constant ? reader.word(r + Model.tensorConstantOffset) : nil,
            byteCount: s.elementCount)
    }

    @_optimize(size)  // load-time / quantization-time code: flash over speed
    func validateTensors() throws(ModelError) {
        for i in 0..<tensorCount {
            let r = tensorRecord(i)
            let n = reader.word(r), h = reader.word(r + 4), w = reader.word(r + 8), c = reader.word(r + 12)
            let range = 1...ModelFormat.maxDimension
            guard range.contains(n), range.contains(h), range.contains(w), range.contains(c),
                let count = Checked.product(n, h, w, c), count <= Int(Int32.max)
            else { throw .invalidTensor(index: i, reason: .badShape(n: n, h: h, w: w, c: c)) }
            let type = reader.byte(r + Model.tensorElementType)
            guard type == 0 else { throw .invalidTensor(index: i, reason: .unknownElementType(type)) }
            let layoutByte = reader.byte(r + Model.tensorLayout)
            guard TensorLayout(rawValue: layoutByte) != nil else {
                throw .invalidTensor(index: i, reason: .unknownLayout(layoutByte))
            }
            let q = quantization(i)
            let zp = reader.word(r + Model.tensorZeroPoint)
            guard q.scale.isFinite, q.scale > 0, zp >= -128, zp <= 127 else {
                throw .invalidTensor(index: i, reason: .badQuantization)
            }
            let storageByte = reader.byte(r + Model.tensorStorage)
            guard let storage = TensorStorage(rawValue: storageByte) else {
                throw .invalidTensor(index: i, reason: .unknownStorage(storageByte))
            }
            let plannedOffset = arenaOffset(i)
            switch storage {
            case .arena:
                guard plannedOffset >= 0 else { throw .invalidTensor(index: i, reason: .missingArenaOffset) }
                guard Checked.fits(plannedOffset, count, in: arenaSize) else {
                    throw .arenaOutOfBounds(buffer: .tensor(i), offset: plannedOffset, length: count, arenaSize: arenaSize)
                }
            case .constant:
                let offset = reader.word(r + Model.tensorConstantOffset)
                guard plannedOffset == -1, offset % ModelFormat.alignment == 0,
                    Checked.fits(offset, count, in: constantsLength)
                else { throw .invalidTensor(index: i, reason: .badConstant(offset: offset, length: count)) }
            }
        }
    }

    @_optimize(size)  // load-time / quantization-time code: flash over speed
    func validateScratch() throws(ModelError) {
        for k in 0..<scratchCount {
            let (offset, size) = scratch(k)
            guard offset % ModelFormat.alignment == 0, Checked.fits(offset, size, in: arenaSize) else {
                throw .arenaOutOfBounds(buffer: .scratch(k), offset: offset, length: size, arenaSize: arenaSize)
            }
        }
    }

    @_optimize(size)  // load-time / quantization-time code: flash over speed
    func validateIO() throws(ModelError) {
        for i in 0..<(inputCount + outputCount) {
            let isInput = i < inputCount
            let t = reader.word(ioSection + 8 + 4 * i)
            guard t >= 0, t < tensorCount, isArenaTensor(t) else {
                throw .invalidIO(isInput: isInput, position: isInput ? i : i - inputCount, tensor: t)
            }
        }
    }
}
