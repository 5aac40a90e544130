import QuantaKernels
import QuantaRuntime

/// libFuzzer entry: `Model(bytes:)` must accept or reject any bytes with a `ModelError` —
/// never trap or read outside the file. When it accepts, an `Interpreter` bound to an
/// arena of exactly `model.arenaSize` bytes must run `invoke()` without trapping and
/// without reading or writing outside the file and the arena (AddressSanitizer checks
/// both: each is its own heap block of exactly that size), and every input and output
/// view must lie inside the arena.
///
/// The harness seals the input first: it writes the input's length into the header's
/// file-size field and the FNV-1a checksum into the checksum field, so that mutations
/// reach the validation behind the checksum instead of all failing it (the checksum and
/// size checks themselves are covered by the unit tests). The arena is filled with
/// pseudo-random bytes derived from the checksum (deterministic per input).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: ModelFormat.alignment)
    defer { file.deallocate() }
    if size > 0 { file.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    if size >= ModelFormat.checksumOffset + 8 {
        file.storeBytes(of: UInt32(truncatingIfNeeded: size).littleEndian, toByteOffset: 8, as: UInt32.self)
        let sum = ModelFormat.checksum(UnsafeRawBufferPointer(file))
        file.storeBytes(of: sum.littleEndian, toByteOffset: ModelFormat.checksumOffset, as: UInt64.self)
        seed ^= sum
    }
    let model: Model
    do {
        model = try Model(bytes: UnsafeRawBufferPointer(file))
    } catch {
        return 0
    }
    // Validation bounds the plan's size by 32 bits; keep what the harness allocates and
    // the time one invoke takes reasonable.
    guard model.arenaSize <= 16 << 20 else { return 0 }
    let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: model.arenaSize, alignment: ModelFormat.alignment)
    defer { arena.deallocate() }
    var state = seed
    for i in 0..<arena.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        arena[i] = UInt8(truncatingIfNeeded: state >> 56)
    }
    let interpreter: Interpreter
    do {
        interpreter = try Interpreter(model: model, arena: arena)
    } catch {
        preconditionFailure("a validated model does not bind to an arena of its stated size: \(error)")
    }
    let lower = UInt(bitPattern: arena.baseAddress)
    func checkInArena(_ view: TensorView) {
        let start = UInt(bitPattern: view.data)
        precondition(view.count == 0 || (start >= lower && start - lower + UInt(view.count) <= UInt(arena.count)),
                     "tensor view outside the arena")
    }
    for i in 0..<model.inputCount { checkInArena(interpreter.input(i)) }
    interpreter.invoke()
    var sink: Int8 = 0
    for i in 0..<model.outputCount {
        let view = interpreter.output(i)
        checkInArena(view)
        for v in view.buffer { sink ^= v }
    }
    return sink == 127 ? 0 : 0
}
