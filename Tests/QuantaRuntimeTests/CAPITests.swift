import XCTest
import CQuantaSmoke
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

final class CAPITests: XCTestCase {
    func testStorageDeclaredInTheHeaderHoldsModelAndInterpreter() {
        XCTAssertLessThanOrEqual(MemoryLayout<Model>.size, CStorage.model)
        XCTAssertLessThanOrEqual(MemoryLayout<Interpreter>.size, CStorage.interpreter)
        XCTAssertLessThanOrEqual(MemoryLayout<Model>.alignment, 16)
    }

    func testCAPIFromCGivesTheSwiftInterpreterOutput() throws {
        let source = TestModels.small()
        let bytes = AlignedBuffer(try ModelWriter().write(source))
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize)
        var rng = TestRandom(seed: 3)
        let input = rng.int8s(192)
        var output = [Int8](repeating: 0, count: 16)
        var count = 0
        let status = quanta_smoke_run(
            bytes.bytes.baseAddress, bytes.count, arena.raw.baseAddress, model.arenaSize, input, input.count, &output,
            output.count, &count)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(Array(output.prefix(count)), DirectExecutor.run(source, inputs: [input])[7])
    }

    func testCStatusNamesEachError() throws {
        var f = try ModelFile()
        f.bytes[0] = 0
        let buffer = AlignedBuffer(f.bytes)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: CStorage.model, alignment: 16)
        defer { storage.deallocate() }
        let status = QuantaRuntime.quanta_model_init(storage, buffer.bytes.baseAddress, UInt(buffer.count))
        XCTAssertEqual(status, CStatus.badMagic.rawValue)
        XCTAssertEqual(String(cString: QuantaRuntime.quanta_status_name(status)!), "bad_magic")
        XCTAssertEqual(String(cString: QuantaRuntime.quanta_status_name(999)!), "unknown")
        XCTAssertEqual(CStatus(.arenaTooSmall(needed: 2, provided: 1)), .arenaTooSmall)
        XCTAssertEqual(QuantaRuntime.quanta_model_init(nil, buffer.bytes.baseAddress, 1), CStatus.nullArgument.rawValue)
    }

    /// `quanta_input_name` / `quanta_output_name`: the file's tensor names, truncated to the
    /// buffer with a terminating 0, the full length returned; bad indices and null models
    /// give minus a status.
    func testInputAndOutputNamesThroughTheCAPI() throws {
        let source = TestModels.small()
        let bytes = AlignedBuffer(try ModelWriter().write(source))
        let storage = UnsafeMutableRawPointer.allocate(byteCount: CStorage.model, alignment: 16)
        defer { storage.deallocate() }
        XCTAssertEqual(QuantaRuntime.quanta_model_init(storage, bytes.bytes.baseAddress, UInt(bytes.count)), CStatus.ok.rawValue)
        let inputName = source.tensors[source.inputs[0]].name, outputName = source.tensors[source.outputs[0]].name
        XCTAssertFalse(inputName.isEmpty)
        var buffer = [UInt8](repeating: 0xAA, count: 64)
        XCTAssertEqual(QuantaRuntime.quanta_input_name(storage, 0, &buffer, 64), Int32(inputName.utf8.count))
        XCTAssertEqual(String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self), inputName)
        XCTAssertEqual(QuantaRuntime.quanta_output_name(storage, 0, &buffer, 64), Int32(outputName.utf8.count))
        XCTAssertEqual(String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self), outputName)
        // Truncated: 2 bytes and the 0; the length is still the whole name's.
        buffer = [UInt8](repeating: 0xAA, count: 8)
        XCTAssertEqual(QuantaRuntime.quanta_input_name(storage, 0, &buffer, 3), Int32(inputName.utf8.count))
        XCTAssertEqual(Array(buffer.prefix(4)), Array(inputName.utf8.prefix(2)) + [0, 0xAA])
        XCTAssertEqual(QuantaRuntime.quanta_input_name(storage, 0, nil, 0), Int32(inputName.utf8.count), "length only")
        XCTAssertEqual(QuantaRuntime.quanta_input_name(storage, 1, &buffer, 8), -CStatus.indexOutOfRange.rawValue)
        XCTAssertEqual(QuantaRuntime.quanta_output_name(storage, -1, &buffer, 8), -CStatus.indexOutOfRange.rawValue)
        XCTAssertEqual(QuantaRuntime.quanta_input_name(nil, 0, &buffer, 8), -CStatus.nullArgument.rawValue)
    }
}
