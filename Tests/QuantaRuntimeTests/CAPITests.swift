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
}
