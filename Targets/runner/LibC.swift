// The C library functions the runner uses, declared with @_extern(c) so that the same
// Swift source links against glibc on the host, aarch64 and armv7 (no Glibc module in
// Embedded Swift on a bare-metal triple).
//
// Only non-variadic functions: a variadic C function (printf, open) called through a
// non-variadic Swift declaration gets the wrong calling convention on armv7 hard-float
// (doubles go in VFP registers instead of core registers).
// `Int` stands for `long`/`size_t`/`ssize_t`/`off_t`-as-long: the same width on LP64
// (x86_64, aarch64) and ILP32 (armv7).

@_extern(c, "fopen")
func c_fopen(_ path: UnsafePointer<CChar>, _ mode: UnsafePointer<CChar>) -> OpaquePointer?
@_extern(c, "fclose")
func c_fclose(_ file: OpaquePointer) -> Int32
@_extern(c, "fread")
func c_fread(_ buffer: UnsafeMutableRawPointer, _ size: Int, _ count: Int, _ file: OpaquePointer) -> Int
@_extern(c, "fwrite")
func c_fwrite(_ buffer: UnsafeRawPointer, _ size: Int, _ count: Int, _ file: OpaquePointer) -> Int
@_extern(c, "fseek")
func c_fseek(_ file: OpaquePointer, _ offset: Int, _ whence: Int32) -> Int32
@_extern(c, "ftell")
func c_ftell(_ file: OpaquePointer) -> Int
@_extern(c, "write")
func c_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int
@_extern(c, "strlen")
func c_strlen(_ s: UnsafePointer<CChar>) -> Int
@_extern(c, "rename")
func c_rename(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> Int32
@_extern(c, "remove")
func c_remove(_ path: UnsafePointer<CChar>) -> Int32
/// `int clock_gettime(clockid_t, struct timespec *)`; `timespec` is two `long`s on
/// these targets (glibc's default 32-bit time_t on armv7).
@_extern(c, "clock_gettime")
func c_clock_gettime(_ clock: Int32, _ timespec: UnsafeMutableRawPointer) -> Int32

let SEEK_SET: Int32 = 0
let SEEK_END: Int32 = 2
let CLOCK_MONOTONIC: Int32 = 1

/// Monotonic time in nanoseconds.
func monotonicNanoseconds() -> Int64 {
    var ts: (Int, Int) = (0, 0)
    _ = withUnsafeMutableBytes(of: &ts) { c_clock_gettime(CLOCK_MONOTONIC, $0.baseAddress!) }
    return Int64(ts.0) * 1_000_000_000 + Int64(ts.1)
}

/// Writes a line to standard output (fd 1) or standard error (fd 2), unbuffered.
func writeLine(_ text: String, fd: Int32 = 1) {
    var line = text
    line.append("\n")
    line.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let n = c_write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// A 64-byte-aligned heap buffer owned by the runner (model file, arena, I/O buffers).
/// (Embedded Swift allocates with posix_memalign and frees with free, from the C library.)
struct AlignedBuffer {
    let base: UnsafeMutableRawPointer
    let count: Int

    /// Allocates `count` bytes (at least 1), 64-byte aligned, zero-filled.
    init?(count: Int) {
        guard count >= 0 else { return nil }
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        self.base = p
        self.count = count
    }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    var mutableRaw: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: count) }

    func release() { base.deallocate() }
}
