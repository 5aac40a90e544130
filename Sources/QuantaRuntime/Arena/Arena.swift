import QuantaKernels

/// A model's arena plan bound to a caller's buffer: resolves planned offsets to pointers.
///
/// Binding checks that the buffer holds `model.arenaSize` bytes and starts on a 16-byte
/// boundary (the plan aligns scratch buffers and tensors to 16 bytes relative to it).
/// Validation of the model guarantees every planned buffer ends inside `arenaSize`.
@frozen
public struct Arena {
    /// Start of the caller's buffer (nil only when the plan needs no bytes).
    public let base: UnsafeMutableRawPointer?
    /// Bytes the caller provided (at least the plan's size).
    public let capacity: Int

    public init(model: Model, buffer: UnsafeMutableRawBufferPointer) throws(ModelError) {
        guard buffer.count >= model.arenaSize else {
            throw .arenaTooSmall(needed: model.arenaSize, provided: buffer.count)
        }
        if let address = buffer.baseAddress {
            let bits = UInt(bitPattern: address)
            guard bits % UInt(ModelFormat.alignment) == 0 else {
                throw .misalignedBuffer(address: bits, required: ModelFormat.alignment)
            }
        }
        base = buffer.baseAddress
        capacity = buffer.count
    }

    /// The byte at `offset` of the arena (an offset the validated plan gives).
    @inlinable
    public func pointer(_ offset: Int) -> UnsafeMutableRawPointer { base.unsafelyUnwrapped + offset }
}
