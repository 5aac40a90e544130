import XCTest
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

final class InterpreterTests: XCTestCase {
    /// Writes `source`, runs it op by op in the interpreter and compares every op's output
    /// with calling the kernels directly, bit for bit.
    func assertInterpreterMatchesKernels(_ source: QuantizedModel, file: StaticString = #filePath, line: UInt = #line) throws {
        // Op by op needs the source's ops one to one: no memory passes (they merge ops); the
        // default passes are checked on whole invokes at the end.
        let bytes = AlignedBuffer(try ModelWriter(memoryPasses: .none).write(source))
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize)
        let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
        var rng = TestRandom(seed: 99)
        let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
        let expected = DirectExecutor.run(source, inputs: [input])

        let view = interpreter.input(0)
        XCTAssertEqual(view.shape, source.tensors[source.inputs[0]].shape, file: file, line: line)
        for (k, v) in input.enumerated() { view.data[k] = v }
        for i in 0..<model.opCount {
            interpreter.invoke(ops: i..<(i + 1))
            let t = source.ops[i].outputs[0]
            let got = Array(interpreter.tensor(t)!.buffer)
            XCTAssertEqual(got, expected[t], "op \(i) (\(source.ops[i].name))", file: file, line: line)
        }
        // A whole invoke gives the same outputs.
        for (k, v) in input.enumerated() { interpreter.input(0).data[k] = v }
        interpreter.invoke()
        for (k, t) in source.outputs.enumerated() {
            XCTAssertEqual(Array(interpreter.output(k).buffer), expected[t], file: file, line: line)
            XCTAssertEqual(interpreter.output(k).quantization, source.tensors[t].quantization, file: file, line: line)
        }
        // With the default memory passes (fused blocks, in-place ops, interleaved concats).
        let passed = AlignedBuffer(try ModelWriter().write(source))
        let passedModel = try Model(bytes: passed.bytes)
        let passedArena = AlignedBuffer(count: passedModel.arenaSize)
        let passedInterpreter = try Interpreter(model: passedModel, arena: passedArena.mutableBytes)
        for (k, v) in input.enumerated() { passedInterpreter.input(0).data[k] = v }
        passedInterpreter.invoke()
        for (k, t) in source.outputs.enumerated() {
            XCTAssertEqual(Array(passedInterpreter.output(k).buffer), expected[t], "with memory passes", file: file, line: line)
        }
    }

    func testInterpreterEqualsDirectKernelCallsBitForBit() throws {
        try assertInterpreterMatchesKernels(TestModels.small(seed: 1))
        try assertInterpreterMatchesKernels(TestModels.small(seed: 7))
    }

    func testInterpreterEqualsDirectKernelCallsForLayoutPoolingMulTransposeSoftmax() throws {
        try assertInterpreterMatchesKernels(TestModels.layoutOps())
    }

    func testInterpreterEqualsDirectKernelCallsForBorderPadUpsampleAndBilinearResize() throws {
        try assertInterpreterMatchesKernels(TestModels.resizeOps())
    }

    func testInterpreterEqualsDirectKernelCallsForStridedCopiesAndFloatTableSoftmax() throws {
        try assertInterpreterMatchesKernels(TestModels.viewOps())
    }

    func testOutputsAreNotAllSaturated() throws {
        // Guards the comparison above against a degenerate model whose outputs are constant.
        let source = TestModels.small()
        var rng = TestRandom(seed: 99)
        let values = DirectExecutor.run(source, inputs: [rng.int8s(192)])
        XCTAssertGreaterThan(Set(values[7]).count, 2)
        XCTAssertGreaterThan(Set(values[5]).count, 10)
    }

    func testStatedArenaSizeIsExactlyWhatBindingNeeds() throws {
        let bytes = AlignedBuffer(try ModelWriter().write(TestModels.small()))
        let model = try Model(bytes: bytes.bytes)
        XCTAssertGreaterThan(model.arenaSize, 0)
        let arena = AlignedBuffer(count: model.arenaSize)
        XCTAssertNoThrow(try Interpreter(model: model, arena: arena.mutableBytes))
        let short = UnsafeMutableRawBufferPointer(rebasing: arena.raw[0..<(model.arenaSize - 1)])
        XCTAssertThrowsError(try Interpreter(model: model, arena: short)) { error in
            XCTAssertEqual(error as? ModelError, .arenaTooSmall(needed: model.arenaSize, provided: model.arenaSize - 1))
        }
    }

    func testMisalignedArenaIsRejected() throws {
        let bytes = AlignedBuffer(try ModelWriter().write(TestModels.small()))
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize + 16)
        let shifted = UnsafeMutableRawBufferPointer(rebasing: arena.raw[8..<(model.arenaSize + 8)])
        XCTAssertThrowsError(try Interpreter(model: model, arena: shifted)) { error in
            XCTAssertEqual(error as? ModelError, .misalignedBuffer(address: UInt(bitPattern: shifted.baseAddress!), required: 16))
        }
    }

    func testInPlaceLookupTableAndAddGiveTheSameOutputs() throws {
        let source = TestModels.small()
        var f = try ModelFile(source)
        f.set(f.arenaOffsetSlot(tensor: 4), f.model.arenaOffset(3))
        f.set(f.arenaOffsetSlot(tensor: 5), f.model.arenaOffset(3))
        ModelWriter.sealChecksum(&f.bytes)
        let bytes = AlignedBuffer(f.bytes)
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize)
        let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
        var rng = TestRandom(seed: 5)
        let input = rng.int8s(192)
        for (k, v) in input.enumerated() { interpreter.input(0).data[k] = v }
        interpreter.invoke()
        XCTAssertEqual(Array(interpreter.output(0).buffer), DirectExecutor.run(source, inputs: [input])[7])
    }

    func testInputAndOutputViewsDescribeTheirTensors() throws {
        let bytes = AlignedBuffer(try ModelWriter().write(TestModels.small()))
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize)
        let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
        let input = interpreter.input(0)
        XCTAssertEqual(input.shape, TensorShape(n: 1, h: 8, w: 8, c: 3))
        XCTAssertEqual(input.quantization, QuantizationParameters(scale: 0.05, zeroPoint: -3))
        XCTAssertEqual(input.sourceLayout, .nchw)
        XCTAssertEqual(input.data, arena.raw.baseAddress!.advanced(by: model.arenaOffset(0)).assumingMemoryBound(to: Int8.self))
        XCTAssertEqual(interpreter.output(0).shape, TensorShape(n: 1, h: 1, w: 1, c: 5))
        XCTAssertEqual(interpreter.output(0).sourceLayout, .nc)
    }
}
