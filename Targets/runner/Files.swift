/// Why the runner could not read or write a file.
enum FileError: Error {
    case cannotOpen(path: String)
    case cannotRead(path: String)
    case cannotWrite(path: String)
    case outOfMemory(bytes: Int)

    var message: String {
        switch self {
        case .cannotOpen(let path): return "cannot open \(path)"
        case .cannotRead(let path): return "cannot read \(path)"
        case .cannotWrite(let path): return "cannot write \(path)"
        case .outOfMemory(let bytes): return "out of memory allocating \(bytes) bytes"
        }
    }
}

/// Reads a whole file into a new 64-byte-aligned buffer (the caller releases it).
func readFile(_ path: String) throws(FileError) -> AlignedBuffer {
    let file: OpaquePointer? = path.withCString { c_fopen($0, "rb") }
    guard let file else { throw .cannotOpen(path: path) }
    defer { _ = c_fclose(file) }
    guard c_fseek(file, 0, SEEK_END) == 0 else { throw .cannotRead(path: path) }
    let size = c_ftell(file)
    guard size >= 0, c_fseek(file, 0, SEEK_SET) == 0 else { throw .cannotRead(path: path) }
    guard let buffer = AlignedBuffer(count: size) else { throw .outOfMemory(bytes: size) }
    if size > 0 && c_fread(buffer.base, 1, size, file) != size {
        buffer.release()
        throw .cannotRead(path: path)
    }
    return buffer
}

/// Writes `header` and then `data` to `path` atomically: into `path.tmp` first, renamed
/// over `path` only when everything was written and closed, so a failed or interrupted
/// run never leaves a partial `path` behind (and removes its `.tmp`).
func writeFile(_ path: String, header: [UInt8], data: UnsafeRawBufferPointer) throws(FileError) {
    let temporary = path + ".tmp"
    let file: OpaquePointer? = temporary.withCString { c_fopen($0, "wb") }
    guard let file else { throw .cannotWrite(path: path) }
    let headerWritten = header.withUnsafeBytes { h in
        h.count == 0 || c_fwrite(h.baseAddress!, 1, h.count, file) == h.count
    }
    let dataWritten = data.count == 0 || c_fwrite(data.baseAddress!, 1, data.count, file) == data.count
    let closed = c_fclose(file) == 0
    let renamed = headerWritten && dataWritten && closed
        && temporary.withCString { t in path.withCString { c_rename(t, $0) == 0 } }
    guard renamed else {
        _ = temporary.withCString { c_remove($0) }
        throw .cannotWrite(path: path)
    }
}
