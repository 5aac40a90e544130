import QuantaKernels
import QuantaRuntime

/// libFuzzer entry: `Model(bytes:)` must accept or reject any bytes with a `ModelError` —
/// never trap or read outside the file. When it accepts, binding an arena of the stated
/// size must succeed.
///
/// The harness seals the input first: it writes the input's length into the header's
/// file-size field and the FNV-1a checksum into the checksum field, so that mutations
/// reach the validation behind the checksum instead of all failing it (the checksum and
/// size checks themselves are covered by the unit tests). The bytes are copied into a
/// 16-byte-aligned buffer of exactly the input's size, so AddressSanitizer reports any
/// read past the file's end.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: ModelFormat.alignment)
    defer { file.deallocate() }
    if size > 0 { file.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    if size >= ModelFormat.checksumOffset + 8 {
        file.storeBytes(of: UInt32(truncatingIfNeeded: size).littleEndian, toByteOffset: 8, as: UInt32.self)
        let sum = ModelFormat.checksum(UnsafeRawBufferPointer(file))
        file.storeBytes(of: sum.littleEndian, toByteOffset: ModelFormat.checksumOffset, as: UInt64.self)
    }
    let model: Model
    do {
        model = try Model(bytes: UnsafeRawBufferPointer(file))
    } catch {
        return 0
    }
    // The plan's size is validated but may be large: cap what the harness allocates.
    guard model.arenaSize <= 64 << 20 else { return 0 }
    let arenaBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: model.arenaSize, alignment: ModelFormat.alignment)
    defer { arenaBuffer.deallocate() }
    do {
        _ = try Arena(model: model, buffer: arenaBuffer)
    } catch {
        preconditionFailure("a validated model's arena does not bind: \(error)")
    }
    return 0
}
