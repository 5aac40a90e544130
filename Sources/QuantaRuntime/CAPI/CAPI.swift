import QuantaKernels

// The C API of Sources/CQuanta/include/quanta.h. Models and interpreters live in storage
// the caller provides (`quanta_model`, `quanta_interpreter`); nothing allocates.

/// Status codes of the C API, one per `ModelError` kind (see quanta.h).
public enum CStatus: Int32 {
    case ok = 0
    case truncated = 1, badMagic, unsupportedVersion, sizeMismatch, checksumMismatch, misalignedBuffer,
        invalidHeader, offsetOutOfBounds, misalignedSection, invalidCount, invalidTensor, invalidOp, invalidIO,
        arenaOutOfBounds, overlappingBuffers, invalidLowerBound, arenaTooSmall, invalidName
    case nullArgument = 100
    case indexOutOfRange = 101

    public init(_ error: ModelError) {
        switch error {
        case .truncated: self = .truncated
        case .badMagic: self = .badMagic
        case .unsupportedVersion: self = .unsupportedVersion
        case .sizeMismatch: self = .sizeMismatch
        case .checksumMismatch: self = .checksumMismatch
        case .misalignedBuffer: self = .misalignedBuffer
        case .invalidHeader: self = .invalidHeader
        case .offsetOutOfBounds: self = .offsetOutOfBounds
        case .misaligned: self = .misalignedSection
        case .invalidCount: self = .invalidCount
        case .invalidTensor: self = .invalidTensor
        case .invalidOp: self = .invalidOp
        case .invalidIO: self = .invalidIO
        case .arenaOutOfBounds: self = .arenaOutOfBounds
        case .overlappingBuffers: self = .overlappingBuffers
        case .invalidLowerBound: self = .invalidLowerBound
        case .arenaTooSmall: self = .arenaTooSmall
        case .invalidName: self = .invalidName
        }
    }

    /// The constant name `quanta_status_name` returns.
    public var name: StaticString {
        switch self {
        case .ok: return "ok"
        case .truncated: return "truncated"
        case .badMagic: return "bad_magic"
        case .unsupportedVersion: return "unsupported_version"
        case .sizeMismatch: return "size_mismatch"
        case .checksumMismatch: return "checksum_mismatch"
        case .misalignedBuffer: return "misaligned_buffer"
        case .invalidHeader: return "invalid_header"
        case .offsetOutOfBounds: return "offset_out_of_bounds"
        case .misalignedSection: return "misaligned_section"
        case .invalidCount: return "invalid_count"
        case .invalidTensor: return "invalid_tensor"
        case .invalidOp: return "invalid_op"
        case .invalidIO: return "invalid_io"
        case .arenaOutOfBounds: return "arena_out_of_bounds"
        case .overlappingBuffers: return "overlapping_buffers"
        case .invalidLowerBound: return "invalid_lower_bound"
        case .arenaTooSmall: return "arena_too_small"
        case .invalidName: return "invalid_name"
        case .nullArgument: return "null_argument"
        case .indexOutOfRange: return "index_out_of_range"
        }
    }
}

/// Bytes of caller storage per object (must match quanta.h).
public enum CStorage {
    public static let model = 256
    public static let interpreter = 320
}

@_cdecl("quanta_model_init")
public func quanta_model_init(_ storage: UnsafeMutableRawPointer?, _ bytes: UnsafeRawPointer?, _ size: UInt) -> Int32 {
    guard let storage, let bytes else { return CStatus.nullArgument.rawValue }
    guard MemoryLayout<Model>.size <= CStorage.model, MemoryLayout<Model>.alignment <= 16 else {
        return CStatus.invalidHeader.rawValue
    }
    do throws(ModelError) {
        let model = try Model(bytes: UnsafeRawBufferPointer(start: bytes, count: Int(size)))
        storage.initializeMemory(as: Model.self, repeating: model, count: 1)
        return CStatus.ok.rawValue
    } catch {
        return CStatus(error).rawValue
    }
}

@_cdecl("quanta_model_arena_size")
public func quanta_model_arena_size(_ storage: UnsafeRawPointer?) -> UInt {
    guard let storage else { return 0 }
    return UInt(storage.assumingMemoryBound(to: Model.self).pointee.arenaSize)
}

@_cdecl("quanta_model_input_count")
public func quanta_model_input_count(_ storage: UnsafeRawPointer?) -> Int32 {
    guard let storage else { return 0 }
    return Int32(storage.assumingMemoryBound(to: Model.self).pointee.inputCount)
}

@_cdecl("quanta_model_output_count")
public func quanta_model_output_count(_ storage: UnsafeRawPointer?) -> Int32 {
    guard let storage else { return 0 }
    return Int32(storage.assumingMemoryBound(to: Model.self).pointee.outputCount)
}

@_cdecl("quanta_model_op_count")
public func quanta_model_op_count(_ storage: UnsafeRawPointer?) -> Int32 {
    guard let storage else { return 0 }
    return Int32(storage.assumingMemoryBound(to: Model.self).pointee.opCount)
}

@_cdecl("quanta_interpreter_init")
public func quanta_interpreter_init(
    _ storage: UnsafeMutableRawPointer?, _ model: UnsafeRawPointer?, _ arena: UnsafeMutableRawPointer?, _ size: UInt
) -> Int32 {
    guard let storage, let model else { return CStatus.nullArgument.rawValue }
    guard MemoryLayout<Interpreter>.size <= CStorage.interpreter, MemoryLayout<Interpreter>.alignment <= 16 else {
        return CStatus.invalidHeader.rawValue
    }
    let m = model.assumingMemoryBound(to: Model.self).pointee
    do throws(ModelError) {
        let interpreter = try Interpreter(model: m, arena: UnsafeMutableRawBufferPointer(start: arena, count: arena == nil ? 0 : Int(size)))
        storage.initializeMemory(as: Interpreter.self, repeating: interpreter, count: 1)
        return CStatus.ok.rawValue
    } catch {
        return CStatus(error).rawValue
    }
}

@_cdecl("quanta_invoke")
public func quanta_invoke(_ storage: UnsafeRawPointer?) {
    guard let storage else { return }
    storage.assumingMemoryBound(to: Interpreter.self).pointee.invoke()
}

/// Ops `first ..< first + count` of the plan, in order (what `quanta_invoke` does for all
/// of them): a board-side profiler times each op with its own clock. Index out of range
/// when the range leaves `0 ..< op count` (nothing runs). No allocation.
@_cdecl("quanta_invoke_ops")
public func quanta_invoke_ops(_ storage: UnsafeRawPointer?, _ first: Int32, _ count: Int32) -> Int32 {
    guard let storage else { return CStatus.nullArgument.rawValue }
    let interpreter = storage.assumingMemoryBound(to: Interpreter.self).pointee
    guard first >= 0, count >= 0, Int(first) + Int(count) <= interpreter.model.opCount else { return CStatus.indexOutOfRange.rawValue }
    interpreter.invoke(ops: Int(first)..<(Int(first) + Int(count)))
    return CStatus.ok.rawValue
}

/// Fills a `quanta_tensor`: data pointer, then n, h, w, c, scale, zero point, layout.
func fillCTensor(_ view: TensorView, _ out: UnsafeMutableRawPointer) {
    let p = MemoryLayout<UnsafeMutableRawPointer>.size
    out.storeBytes(of: UnsafeMutableRawPointer(view.data), as: UnsafeMutableRawPointer.self)
    out.storeBytes(of: Int32(view.shape.n), toByteOffset: p, as: Int32.self)
    out.storeBytes(of: Int32(view.shape.h), toByteOffset: p + 4, as: Int32.self)
    out.storeBytes(of: Int32(view.shape.w), toByteOffset: p + 8, as: Int32.self)
    out.storeBytes(of: Int32(view.shape.c), toByteOffset: p + 12, as: Int32.self)
    out.storeBytes(of: view.quantization.scale, toByteOffset: p + 16, as: Float.self)
    out.storeBytes(of: view.quantization.zeroPoint, toByteOffset: p + 20, as: Int32.self)
    out.storeBytes(of: Int32(view.sourceLayout.rawValue), toByteOffset: p + 24, as: Int32.self)
}

@_cdecl("quanta_input")
public func quanta_input(_ storage: UnsafeRawPointer?, _ index: Int32, _ tensor: UnsafeMutableRawPointer?) -> Int32 {
    guard let storage, let tensor else { return CStatus.nullArgument.rawValue }
    let interpreter = storage.assumingMemoryBound(to: Interpreter.self).pointee
    guard index >= 0, Int(index) < interpreter.model.inputCount else { return CStatus.indexOutOfRange.rawValue }
    fillCTensor(interpreter.input(Int(index)), tensor)
    return CStatus.ok.rawValue
}

@_cdecl("quanta_output")
public func quanta_output(_ storage: UnsafeRawPointer?, _ index: Int32, _ tensor: UnsafeMutableRawPointer?) -> Int32 {
    guard let storage, let tensor else { return CStatus.nullArgument.rawValue }
    let interpreter = storage.assumingMemoryBound(to: Interpreter.self).pointee
    guard index >= 0, Int(index) < interpreter.model.outputCount else { return CStatus.indexOutOfRange.rawValue }
    fillCTensor(interpreter.output(Int(index)), tensor)
    return CStatus.ok.rawValue
}

/// Copies the name of tensor `tensor` (UTF-8, from the file's names section) to `buffer`:
/// at most `size - 1` bytes and a terminating 0 when `size > 0`. The name's full length.
func copyName(_ model: Model, tensor: Int, _ buffer: UnsafeMutableRawPointer?, _ size: UInt) -> Int32 {
    let name = model.tensorNameBytes(tensor)
    if let buffer, size > 0 {
        let n = Swift.min(name.count, Int(size) - 1)
        if n > 0, let source = name.baseAddress { buffer.copyMemory(from: source, byteCount: n) }
        buffer.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
    }
    return Int32(truncatingIfNeeded: name.count)
}

/// The shape of a `quanta_tensor` in its source layout, outermost first (NCHW: n, c, h, w;
/// NHWC: n, h, w, c; NC: n, c): writes min(rank, capacity) dims, returns the rank (4 or 2),
/// or minus a status.
@_cdecl("quanta_tensor_shape")
public func quanta_tensor_shape(_ tensor: UnsafeRawPointer?, _ dims: UnsafeMutablePointer<Int32>?, _ capacity: Int32) -> Int32 {
    guard let tensor else { return -CStatus.nullArgument.rawValue }
    let p = MemoryLayout<UnsafeMutableRawPointer>.size
    let n = tensor.loadUnaligned(fromByteOffset: p, as: Int32.self), h = tensor.loadUnaligned(fromByteOffset: p + 4, as: Int32.self)
    let w = tensor.loadUnaligned(fromByteOffset: p + 8, as: Int32.self), c = tensor.loadUnaligned(fromByteOffset: p + 12, as: Int32.self)
    let layout = tensor.loadUnaligned(fromByteOffset: p + 24, as: Int32.self)
    let rank: Int32 = layout == Int32(TensorLayout.nc.rawValue) ? 2 : 4
    func put(_ k: Int32, _ value: Int32) { if let dims, k < capacity { dims[Int(k)] = value } }
    put(0, n)
    if layout == Int32(TensorLayout.nchw.rawValue) {
        put(1, c); put(2, h); put(3, w)
    } else if rank == 2 {
        put(1, c)
    } else {
        put(1, h); put(2, w); put(3, c)
    }
    return rank
}

@_cdecl("quanta_input_name")
public func quanta_input_name(_ storage: UnsafeRawPointer?, _ index: Int32, _ buffer: UnsafeMutableRawPointer?, _ size: UInt) -> Int32 {
    guard let storage else { return -CStatus.nullArgument.rawValue }
    let model = storage.assumingMemoryBound(to: Model.self).pointee
    guard index >= 0, Int(index) < model.inputCount else { return -CStatus.indexOutOfRange.rawValue }
    return copyName(model, tensor: model.inputTensor(Int(index)), buffer, size)
}

@_cdecl("quanta_output_name")
public func quanta_output_name(_ storage: UnsafeRawPointer?, _ index: Int32, _ buffer: UnsafeMutableRawPointer?, _ size: UInt) -> Int32 {
    guard let storage else { return -CStatus.nullArgument.rawValue }
    let model = storage.assumingMemoryBound(to: Model.self).pointee
    guard index >= 0, Int(index) < model.outputCount else { return -CStatus.indexOutOfRange.rawValue }
    return copyName(model, tensor: model.outputTensor(Int(index)), buffer, size)
}

@_cdecl("quanta_status_name")
public func quanta_status_name(_ status: Int32) -> UnsafePointer<CChar>? {
    let name: StaticString = CStatus(rawValue: status)?.name ?? "unknown"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
