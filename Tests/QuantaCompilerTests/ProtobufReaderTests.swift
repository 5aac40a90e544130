import XCTest
@testable import QuantaCompiler

final class ProtobufReaderTests: XCTestCase {
    func testVarintsDecodeSingleMultiByteAndMaximum() throws {
        var w = ProtoWriter()
        w.int(1, 1)
        w.int(2, 300)  // AC 02
        w.int(3, -1)  // ten bytes
        w.key(4, 0)
        w.varint(UInt64.max)
        XCTAssertEqual(Array(w.bytes[2...4]), [0x10, 0xAC, 0x02])
        var r = ProtobufReader(bytes: w.bytes)
        var k = try XCTUnwrap(r.nextField())
        XCTAssertEqual(k.number, 1)
        XCTAssertEqual(try r.readInt64(k), 1)
        k = try XCTUnwrap(r.nextField())
        XCTAssertEqual(try r.readInt64(k), 300)
        k = try XCTUnwrap(r.nextField())
        XCTAssertEqual(try r.readInt64(k), -1)
        k = try XCTUnwrap(r.nextField())
        XCTAssertEqual(try r.readVarint(k), UInt64.max)
        XCTAssertNil(try r.nextField())
    }

    func testFixed32AndFixed64AreLittleEndian() throws {
        var w = ProtoWriter()
        w.key(1, 5)
        w.bytes += [0x78, 0x56, 0x34, 0x12]
        w.key(2, 1)
        w.fixed64(0x0102_0304_0506_0708)
        w.float(3, -2.5)
        var r = ProtobufReader(bytes: w.bytes)
        XCTAssertEqual(try r.readFixed32(try XCTUnwrap(r.nextField())), 0x1234_5678)
        XCTAssertEqual(try r.readFixed64(try XCTUnwrap(r.nextField())), 0x0102_0304_0506_0708)
        XCTAssertEqual(try r.readFloat(try XCTUnwrap(r.nextField())), -2.5)
    }

    func testPackedAndUnpackedRepeatedFieldsGiveTheSameValues() throws {
        let floats: [Float] = [1, -0.5, 3.25, .infinity]
        let ints: [Int64] = [0, 1, -7, 1 << 40]
        var packed = ProtoWriter()
        packed.packedFloats(4, floats)
        packed.packedInts(7, ints)
        var unpacked = ProtoWriter()
        for f in floats { unpacked.float(4, f) }
        for i in ints { unpacked.int(7, i) }
        for bytes in [packed.bytes, unpacked.bytes] {
            var r = ProtobufReader(bytes: bytes)
            var fs: [Float] = []
            var isv: [Int64] = []
            while let k = try r.nextField() {
                if k.number == 4 { try r.appendFloats(k, to: &fs) } else { try r.appendInt64s(k, to: &isv) }
            }
            XCTAssertEqual(fs, floats)
            XCTAssertEqual(isv, ints)
        }
    }

    func testUnknownFieldsOfEveryWireTypeAreSkipped() throws {
        var inner = ProtoWriter()
        inner.int(1, 5)
        var w = ProtoWriter()
        w.int(100, 12345)
        w.key(101, 1)
        w.fixed64(7)
        w.key(102, 5)
        w.fixed32(7)
        w.message(103, inner)
        w.string(8, "kept")
        var r = ProtobufReader(bytes: w.bytes)
        var name: String?
        while let k = try r.nextField() {
            if k.number == 8 { name = try r.readString(k) } else { try r.skip(k) }
        }
        XCTAssertEqual(name, "kept")
    }

    func testSubMessageReaderStopsAtItsEnd() throws {
        var inner = ProtoWriter()
        inner.int(1, 9)
        var w = ProtoWriter()
        w.message(1, inner)
        w.int(2, 4)
        var r = ProtobufReader(bytes: w.bytes)
        var sub = try r.readMessage(try XCTUnwrap(r.nextField()))
        XCTAssertEqual(try sub.readInt64(try XCTUnwrap(sub.nextField())), 9)
        XCTAssertNil(try sub.nextField())
        XCTAssertEqual(try r.readInt64(try XCTUnwrap(r.nextField())), 4)
    }

    func testLengthBeyondTheDataIsAnErrorWithItsOffset() {
        var w = ProtoWriter()
        w.int(1, 1)  // 2 bytes
        w.key(2, 2)  // byte 2
        w.varint(50)  // length at byte 3, only 1 byte follows
        w.bytes.append(0)
        var r = ProtobufReader(bytes: w.bytes)
        XCTAssertThrowsError(try { while let k = try r.nextField() { try r.skip(k) } }()) { error in
            XCTAssertEqual(error as? ProtobufError, .lengthOutOfBounds(offset: 3, length: 50, available: 1))
        }
    }

    func testTruncatedFixed32AndOverlongVarintAreErrors() {
        var r = ProtobufReader(bytes: [0x0D, 0x01, 0x02])  // field 1 fixed32, 2 bytes
        XCTAssertThrowsError(try r.readFixed32(try XCTUnwrap(r.nextField()))) { error in
            XCTAssertEqual(error as? ProtobufError, .truncated(offset: 1, needed: 2))
        }
        var r2 = ProtobufReader(bytes: [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01])
        XCTAssertThrowsError(try r2.readVarint(try XCTUnwrap(r2.nextField()))) { error in
            XCTAssertEqual(error as? ProtobufError, .malformedVarint(offset: 1))
        }
        var r3 = ProtobufReader(bytes: [0x08, 0x80])  // varint cut off
        XCTAssertThrowsError(try r3.readVarint(try XCTUnwrap(r3.nextField()))) { error in
            XCTAssertEqual(error as? ProtobufError, .truncated(offset: 2, needed: 1))
        }
    }

    func testGroupsFieldZeroAndWrongWireTypesAreErrors() {
        var r = ProtobufReader(bytes: [0x0B])  // field 1, wire type 3 (start group)
        XCTAssertThrowsError(try r.nextField()) { error in
            XCTAssertEqual(error as? ProtobufError, .unsupportedWireType(wireType: 3, field: 1, offset: 0))
        }
        var r2 = ProtobufReader(bytes: [0x00, 0x01])
        XCTAssertThrowsError(try r2.nextField()) { error in
            XCTAssertEqual(error as? ProtobufError, .invalidFieldNumber(offset: 0))
        }
        var r3 = ProtobufReader(bytes: [0x08, 0x01])  // varint where a string is expected
        XCTAssertThrowsError(try r3.readString(try XCTUnwrap(r3.nextField()))) { error in
            XCTAssertEqual(error as? ProtobufError, .wrongWireType(field: 1, expected: .lengthDelimited, found: .varint, offset: 0))
        }
        var r4 = ProtobufReader(bytes: [0x22, 0x03, 1, 2, 3])  // packed floats of 3 bytes
        var fs: [Float] = []
        XCTAssertThrowsError(try r4.appendFloats(try XCTUnwrap(r4.nextField()), to: &fs)) { error in
            XCTAssertEqual(error as? ProtobufError, .misalignedPackedField(field: 4, offset: 0, length: 3, elementSize: 4))
        }
    }

    func testTensorProtoDecodesRawFloat16Int8AndDoubleData() throws {
        func decode(_ w: ProtoWriter) throws -> ONNXTensorProto {
            var r = ProtobufReader(bytes: w.bytes)
            return try ONNXTensorProto(reader: &r)
        }
        var half = ProtoWriter()
        half.packedInts(1, [3])
        half.int(2, 10)  // FLOAT16
        half.data(9, [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38])  // 1, -2, 0.5
        XCTAssertEqual(try decode(half).floatValues(), [1, -2, 0.5])
        var i8 = ProtoWriter()
        i8.packedInts(1, [2])
        i8.int(2, 3)  // INT8
        i8.data(9, [0xFF, 0x7F])
        XCTAssertEqual(try decode(i8).floatValues(), [-1, 127])
        var dbl = ProtoWriter()
        dbl.packedInts(1, [2])
        dbl.int(2, 11)  // DOUBLE, double_data
        var packed = ProtoWriter()
        packed.fixed64((1.5).bitPattern)
        packed.fixed64((-3.0).bitPattern)
        dbl.data(10, packed.bytes)
        XCTAssertEqual(try decode(dbl).floatValues(), [1.5, -3])
        var i64 = ProtoWriter()
        i64.packedInts(1, [2])
        i64.int(2, 7)
        var raw = ProtoWriter()
        raw.fixed64(UInt64(bitPattern: -5))
        raw.fixed64(UInt64(bitPattern: Int64.max))
        i64.data(9, raw.bytes)
        XCTAssertEqual(try decode(i64).int64Values(), [-5, Int64.max])
        var short = ProtoWriter()
        short.packedInts(1, [4])
        short.int(2, 1)
        short.packedFloats(4, [1, 2])
        XCTAssertThrowsError(try decode(short).floatValues()) { error in
            XCTAssertEqual(error as? ONNXImportError, .tensorSizeMismatch(tensor: "", expected: 4, found: 2))
        }
    }
}
