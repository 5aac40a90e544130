/// Why a FlatBuffers file could not be read: the byte offset and what was wrong there.
public struct FlatBufferError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var detail: String

    public init(offset: Int, detail: String) {
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "at byte \(offset): \(detail)" }
}

/// A FlatBuffers buffer read with every offset, length and size checked before use (what
/// the FlatBuffers verifier checks, except alignment: every read here is byte-wise).
///
/// Guarantees: no read outside `bytes`; a table's fields are read only inside the table's
/// declared inline size; a vector's elements lie inside the buffer, its length times the
/// element size computed without overflow; a string has its NUL terminator. Anything else
/// throws `FlatBufferError` naming the byte offset.
public struct FlatBufferReader {
    public let bytes: [UInt8]

    /// The largest buffer read: FlatBuffers' own limit (offsets are 32-bit, signed for vtables).
    public static let maxSize = Int(Int32.max)

    public init(_ bytes: [UInt8]) throws(FlatBufferError) {
        guard bytes.count >= 8 else { throw FlatBufferError(offset: 0, detail: "\(bytes.count) bytes is too short for a FlatBuffer") }
        guard bytes.count <= Self.maxSize else { throw FlatBufferError(offset: 0, detail: "larger than 2 GiB") }
        self.bytes = bytes
    }

    /// The root table (the `uoffset` at byte 0).
    public func root() throws(FlatBufferError) -> FlatTable {
        try table(at: try offsetTarget(at: 0))
    }

    /// The 4-byte file identifier at bytes 4..<8.
    public var fileIdentifier: String {
        String(decoding: bytes[4..<8], as: UTF8.self)
    }

    // MARK: Scalars (bounds checked)

    func check(_ position: Int, _ size: Int) throws(FlatBufferError) {
        guard position >= 0, size >= 0, position <= bytes.count - size else {
            throw FlatBufferError(offset: max(0, position), detail: "a \(size)-byte read runs past the end of the \(bytes.count)-byte file")
        }
    }

    func u8(_ p: Int) throws(FlatBufferError) -> UInt8 {
        try check(p, 1)
        return bytes[p]
    }

    func u16(_ p: Int) throws(FlatBufferError) -> UInt16 {
        try check(p, 2)
        return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
    }

    func u32(_ p: Int) throws(FlatBufferError) -> UInt32 {
        try check(p, 4)
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    func u64(_ p: Int) throws(FlatBufferError) -> UInt64 {
        try check(p, 8)
        return UInt64(try u32(p)) | UInt64(try u32(p + 4)) << 32
    }

    /// The position a `uoffset` at `p` points to (`p + value`), inside the buffer.
    func offsetTarget(at p: Int) throws(FlatBufferError) -> Int {
        let target = p + Int(try u32(p))
        guard target < bytes.count else {
            throw FlatBufferError(offset: p, detail: "offset \(target - p) points past the end of the file")
        }
        return target
    }

    /// The table at `position`: its vtable found through the `soffset` there and checked.
    func table(at position: Int) throws(FlatBufferError) -> FlatTable {
        let soffset = Int(Int32(bitPattern: try u32(position)))
        let vtable = position - soffset
        guard vtable >= 0, vtable <= bytes.count - 4 else {
            throw FlatBufferError(offset: position, detail: "table's vtable offset \(soffset) points outside the file")
        }
        let vtableSize = Int(try u16(vtable))
        let tableSize = Int(try u16(vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0, vtable + vtableSize <= bytes.count else {
            throw FlatBufferError(offset: vtable, detail: "vtable size \(vtableSize) is odd, below 4 or past the end of the file")
        }
        guard tableSize >= 4, position + tableSize <= bytes.count else {
            throw FlatBufferError(offset: position, detail: "table size \(tableSize) is below 4 or runs past the end of the file")
        }
        return FlatTable(reader: self, position: position, vtable: vtable, fieldCount: (vtableSize - 4) / 2, size: tableSize)
    }
}

/// One FlatBuffers table: fields by id, each read only when present and inside the table.
public struct FlatTable {
    let reader: FlatBufferReader
    public let position: Int
    let vtable: Int
    let fieldCount: Int
    let size: Int

    /// The position of field `id` with `width` inline bytes, or nil when absent.
    func field(_ id: Int, width: Int) throws(FlatBufferError) -> Int? {
        guard id < fieldCount else { return nil }
        let offset = Int(try reader.u16(vtable + 4 + 2 * id))
        if offset == 0 { return nil }
        guard offset >= 4, offset + width <= size else {
            throw FlatBufferError(offset: vtable + 4 + 2 * id, detail: "field \(id) at \(offset) lies outside its \(size)-byte table")
        }
        return position + offset
    }

    public func u8(_ id: Int, default value: UInt8 = 0) throws(FlatBufferError) -> UInt8 {
        guard let p = try field(id, width: 1) else { return value }
        return try reader.u8(p)
    }

    public func bool(_ id: Int) throws(FlatBufferError) -> Bool { try u8(id) != 0 }

    public func i8(_ id: Int, default value: Int8 = 0) throws(FlatBufferError) -> Int8 {
        Int8(bitPattern: try u8(id, default: UInt8(bitPattern: value)))
    }

    public func i32(_ id: Int, default value: Int32 = 0) throws(FlatBufferError) -> Int32 {
        guard let p = try field(id, width: 4) else { return value }
        return Int32(bitPattern: try reader.u32(p))
    }

    public func u32(_ id: Int, default value: UInt32 = 0) throws(FlatBufferError) -> UInt32 {
        guard let p = try field(id, width: 4) else { return value }
        return try reader.u32(p)
    }

    public func u64(_ id: Int, default value: UInt64 = 0) throws(FlatBufferError) -> UInt64 {
        guard let p = try field(id, width: 8) else { return value }
        return try reader.u64(p)
    }

    public func f32(_ id: Int, default value: Float = 0) throws(FlatBufferError) -> Float {
        guard let p = try field(id, width: 4) else { return value }
        return Float(bitPattern: try reader.u32(p))
    }

    /// The sub-table of field `id`, or nil when absent.
    public func table(_ id: Int) throws(FlatBufferError) -> FlatTable? {
        guard let p = try field(id, width: 4) else { return nil }
        return try reader.table(at: try reader.offsetTarget(at: p))
    }

    /// The vector of field `id` with `elementSize`-byte elements, or nil when absent.
    public func vector(_ id: Int, elementSize: Int) throws(FlatBufferError) -> FlatVector? {
        guard let p = try field(id, width: 4) else { return nil }
        let start = try reader.offsetTarget(at: p)
        let count = Int(try reader.u32(start))
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, start + 4 <= reader.bytes.count, bytes <= reader.bytes.count - start - 4 else {
            throw FlatBufferError(offset: start, detail: "a vector of \(count) \(elementSize)-byte elements runs past the end of the file")
        }
        return FlatVector(reader: reader, start: start + 4, count: count, elementSize: elementSize)
    }

    /// The string of field `id` (UTF-8, invalid sequences replaced), or nil when absent.
    public func string(_ id: Int) throws(FlatBufferError) -> String? {
        guard let v = try vector(id, elementSize: 1) else { return nil }
        guard try reader.u8(v.start + v.count) == 0 else {
            throw FlatBufferError(offset: v.start + v.count, detail: "string without its NUL terminator")
        }
        return String(decoding: reader.bytes[v.start..<(v.start + v.count)], as: UTF8.self)
    }

    public func int32s(_ id: Int) throws(FlatBufferError) -> [Int32]? {
        guard let v = try vector(id, elementSize: 4) else { return nil }
        var result: [Int32] = []
        result.reserveCapacity(v.count)
        for i in 0..<v.count { result.append(Int32(bitPattern: try reader.u32(v.start + 4 * i))) }
        return result
    }

    public func floats(_ id: Int) throws(FlatBufferError) -> [Float]? {
        try int32s(id).map { $0.map { Float(bitPattern: UInt32(bitPattern: $0)) } }
    }

    public func int64s(_ id: Int) throws(FlatBufferError) -> [Int64]? {
        guard let v = try vector(id, elementSize: 8) else { return nil }
        var result: [Int64] = []
        result.reserveCapacity(v.count)
        for i in 0..<v.count { result.append(Int64(bitPattern: try reader.u64(v.start + 8 * i))) }
        return result
    }

    /// The tables of a vector-of-tables field (empty when absent).
    public func tables(_ id: Int) throws(FlatBufferError) -> [FlatTable] {
        guard let v = try vector(id, elementSize: 4) else { return [] }
        var result: [FlatTable] = []
        result.reserveCapacity(v.count)
        for i in 0..<v.count { result.append(try reader.table(at: try reader.offsetTarget(at: v.start + 4 * i))) }
        return result
    }
}

/// A vector's elements: `count` elements of `elementSize` bytes from `start`, inside the buffer.
public struct FlatVector {
    let reader: FlatBufferReader
    public let start: Int
    public let count: Int
    public let elementSize: Int

    public var byteRange: Range<Int> { start..<(start + count * elementSize) }
}
