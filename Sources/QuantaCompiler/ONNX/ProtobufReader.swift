/// A problem in protobuf wire-format bytes. Every case names the byte offset (from the
/// start of the whole buffer) where reading failed.
public enum ProtobufError: Error, Equatable, CustomStringConvertible {
    /// The data ended inside a value: `needed` more bytes were required at `offset`.
    case truncated(offset: Int, needed: Int)
    /// A varint longer than 10 bytes (or overflowing 64 bits) starts at `offset`.
    case malformedVarint(offset: Int)
    /// A field key at `offset` has a wire type this reader does not know (3, 4 groups, 6, 7).
    case unsupportedWireType(wireType: Int, field: Int, offset: Int)
    /// A field key at `offset` has field number 0 (invalid).
    case invalidFieldNumber(offset: Int)
    /// A length-delimited field at `offset` claims `length` bytes but only `available` remain.
    case lengthOutOfBounds(offset: Int, length: UInt64, available: Int)
    /// Field `field` at `offset` has wire type `found` where the schema needs `expected`.
    case wrongWireType(field: Int, expected: ProtobufWireType, found: ProtobufWireType, offset: Int)
    /// A packed repeated field at `offset` has a length that is not a multiple of the element size.
    case misalignedPackedField(field: Int, offset: Int, length: Int, elementSize: Int)
    /// A string field at `offset` is not valid UTF-8.
    case invalidUTF8(field: Int, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o, let n): return "protobuf data ends early at byte \(o) (\(n) more bytes needed)"
        case .malformedVarint(let o): return "malformed varint at byte \(o)"
        case .unsupportedWireType(let w, let f, let o): return "unsupported wire type \(w) for field \(f) at byte \(o)"
        case .invalidFieldNumber(let o): return "invalid field number 0 at byte \(o)"
        case .lengthOutOfBounds(let o, let l, let a):
            return "length-delimited field at byte \(o) claims \(l) bytes, only \(a) remain"
        case .wrongWireType(let f, let e, let found, let o):
            return "field \(f) at byte \(o) has wire type \(found), expected \(e)"
        case .misalignedPackedField(let f, let o, let l, let s):
            return "packed field \(f) at byte \(o) has length \(l), not a multiple of \(s)"
        case .invalidUTF8(let f, let o): return "field \(f) at byte \(o) is not valid UTF-8"
        }
    }
}

/// The protobuf wire types this reader understands (groups, 3 and 4, are rejected).
public enum ProtobufWireType: Int, Equatable, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// One field key read from the wire: field number, wire type and the offset of the key.
public struct ProtobufFieldKey: Equatable {
    public var number: Int
    public var wireType: ProtobufWireType
    public var offset: Int
}

/// A cursor over protobuf wire-format bytes (proto2 and proto3 encode alike).
///
/// Reads one message: call `nextField()` until it returns nil, then read the value with
/// the method matching the schema (which checks the wire type) or `skip(_:)` it. Values
/// are little-endian; varints are at most 10 bytes. A sub-message is read with
/// `readMessage(_:)`, which returns a reader limited to the sub-message's bytes. All
/// offsets in errors are absolute offsets into `bytes`. The reader never reads outside
/// `start..<end` and never traps on malformed input.
public struct ProtobufReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.offset = start
        self.end = end
    }

    public var isAtEnd: Bool { offset >= end }

    /// The next field key, or nil at the end of the message.
    public mutating func nextField() throws -> ProtobufFieldKey? {
        if offset >= end { return nil }
        let keyOffset = offset
        let key = try readRawVarint()
        let number = key >> 3
        let wire = Int(key & 7)
        guard number != 0 else { throw ProtobufError.invalidFieldNumber(offset: keyOffset) }
        guard number <= UInt64(Int32.max) else { throw ProtobufError.malformedVarint(offset: keyOffset) }
        guard let wireType = ProtobufWireType(rawValue: wire) else {
            throw ProtobufError.unsupportedWireType(wireType: wire, field: Int(number), offset: keyOffset)
        }
        return ProtobufFieldKey(number: Int(number), wireType: wireType, offset: keyOffset)
    }

    /// Skips the value of a field whose key was just read.
    public mutating func skip(_ key: ProtobufFieldKey) throws {
        switch key.wireType {
        case .varint: _ = try readRawVarint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        }
    }

    // MARK: Scalars

    /// A varint field as UInt64 (int32/int64/uint/bool/enum all use this encoding).
    public mutating func readVarint(_ key: ProtobufFieldKey) throws -> UInt64 {
        try expect(key, .varint)
        return try readRawVarint()
    }

    /// An int64 field (two's complement varint).
    public mutating func readInt64(_ key: ProtobufFieldKey) throws -> Int64 {
        Int64(bitPattern: try readVarint(key))
    }

    /// An int32 field; negative values are encoded as 10-byte varints and truncated here.
    public mutating func readInt32(_ key: ProtobufFieldKey) throws -> Int32 {
        Int32(truncatingIfNeeded: Int64(bitPattern: try readVarint(key)))
    }

    public mutating func readFixed32(_ key: ProtobufFieldKey) throws -> UInt32 {
        try expect(key, .fixed32)
        return try readRawFixed32()
    }

    public mutating func readFixed64(_ key: ProtobufFieldKey) throws -> UInt64 {
        try expect(key, .fixed64)
        return try readRawFixed64()
    }

    public mutating func readFloat(_ key: ProtobufFieldKey) throws -> Float {
        Float(bitPattern: try readFixed32(key))
    }

    public mutating func readDouble(_ key: ProtobufFieldKey) throws -> Double {
        Double(bitPattern: try readFixed64(key))
    }

    // MARK: Length-delimited

    /// The raw bytes of a length-delimited field (bytes, string, sub-message, packed).
    public mutating func readBytes(_ key: ProtobufFieldKey) throws -> ArraySlice<UInt8> {
        try expect(key, .lengthDelimited)
        let range = try readLengthDelimitedRange()
        return bytes[range]
    }

    /// A string field, validated as UTF-8.
    public mutating func readString(_ key: ProtobufFieldKey) throws -> String {
        let slice = try readBytes(key)
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw ProtobufError.invalidUTF8(field: key.number, offset: key.offset)
        }
        return s
    }

    /// A reader over an embedded message's bytes; this reader moves past them.
    public mutating func readMessage(_ key: ProtobufFieldKey) throws -> ProtobufReader {
        try expect(key, .lengthDelimited)
        let range = try readLengthDelimitedRange()
        return ProtobufReader(bytes: bytes, start: range.lowerBound, end: range.upperBound)
    }

    // MARK: Repeated scalars (packed or not)

    /// Appends one element (unpacked encoding) or all elements of a packed run of
    /// varints to `values`, as Int64.
    public mutating func appendInt64s(_ key: ProtobufFieldKey, to values: inout [Int64]) throws {
        if key.wireType == .lengthDelimited {
            let range = try readLengthDelimitedRange()
            var sub = ProtobufReader(bytes: bytes, start: range.lowerBound, end: range.upperBound)
            while !sub.isAtEnd { values.append(Int64(bitPattern: try sub.readRawVarint())) }
        } else {
            values.append(try readInt64(key))
        }
    }

    /// Appends one fixed32 float (unpacked) or a packed run of them to `values`.
    public mutating func appendFloats(_ key: ProtobufFieldKey, to values: inout [Float]) throws {
        if key.wireType == .lengthDelimited {
            let range = try packedRange(key, elementSize: 4)
            values.reserveCapacity(values.count + range.count / 4)
            var i = range.lowerBound
            while i < range.upperBound {
                values.append(Float(bitPattern: littleEndianUInt32(at: i)))
                i += 4
            }
        } else {
            values.append(try readFloat(key))
        }
    }

    /// Appends one fixed64 double (unpacked) or a packed run of them to `values`.
    public mutating func appendDoubles(_ key: ProtobufFieldKey, to values: inout [Double]) throws {
        if key.wireType == .lengthDelimited {
            let range = try packedRange(key, elementSize: 8)
            var i = range.lowerBound
            while i < range.upperBound {
                values.append(Double(bitPattern: littleEndianUInt64(at: i)))
                i += 8
            }
        } else {
            values.append(try readDouble(key))
        }
    }

    // MARK: Primitives

    mutating func readRawVarint() throws -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw ProtobufError.truncated(offset: offset, needed: 1) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw ProtobufError.malformedVarint(offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ProtobufError.malformedVarint(offset: start) }
        }
    }

    mutating func readRawFixed32() throws -> UInt32 {
        guard end - offset >= 4 else { throw ProtobufError.truncated(offset: offset, needed: 4 - (end - offset)) }
        let v = littleEndianUInt32(at: offset)
        offset += 4
        return v
    }

    mutating func readRawFixed64() throws -> UInt64 {
        guard end - offset >= 8 else { throw ProtobufError.truncated(offset: offset, needed: 8 - (end - offset)) }
        let v = littleEndianUInt64(at: offset)
        offset += 8
        return v
    }

    private mutating func advance(_ count: Int) throws {
        guard end - offset >= count else {
            throw ProtobufError.truncated(offset: offset, needed: count - (end - offset))
        }
        offset += count
    }

    private mutating func readLengthDelimitedRange() throws -> Range<Int> {
        let lengthOffset = offset
        let length = try readRawVarint()
        let available = end - offset
        guard length <= UInt64(available) else {
            throw ProtobufError.lengthOutOfBounds(offset: lengthOffset, length: length, available: available)
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    private mutating func packedRange(_ key: ProtobufFieldKey, elementSize: Int) throws -> Range<Int> {
        let range = try readLengthDelimitedRange()
        guard range.count % elementSize == 0 else {
            throw ProtobufError.misalignedPackedField(
                field: key.number, offset: key.offset, length: range.count, elementSize: elementSize)
        }
        return range
    }

    private func expect(_ key: ProtobufFieldKey, _ wireType: ProtobufWireType) throws {
        guard key.wireType == wireType else {
            throw ProtobufError.wrongWireType(field: key.number, expected: wireType, found: key.wireType, offset: key.offset)
        }
    }

    func littleEndianUInt32(at i: Int) -> UInt32 {
        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }

    func littleEndianUInt64(at i: Int) -> UInt64 {
        UInt64(littleEndianUInt32(at: i)) | UInt64(littleEndianUInt32(at: i + 4)) << 32
    }
}
