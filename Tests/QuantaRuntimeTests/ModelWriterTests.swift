import XCTest
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

final class ModelWriterTests: XCTestCase {
    func testRoundTripPreservesTensorsOpsIOAndNames() throws {
        let source = TestModels.small()
        let buffer = AlignedBuffer(try ModelWriter(kernels: .reference).write(source))
        let model = try Model(bytes: buffer.bytes)
        XCTAssertEqual(model.tensorCount, source.tensors.count)
        XCTAssertEqual(model.opCount, source.ops.count)
        XCTAssertEqual(model.inputCount, 1)
        XCTAssertEqual(model.outputCount, 1)
        XCTAssertEqual(model.inputTensor(0), source.inputs[0])
        XCTAssertEqual(model.outputTensor(0), source.outputs[0])
        for (i, t) in source.tensors.enumerated() {
            let d = model.tensor(i)
            XCTAssertEqual(d.shape, t.shape)
            XCTAssertEqual(d.quantization, t.quantization)
            XCTAssertEqual(d.storage, .arena)
            XCTAssertEqual(model.tensorName(i), t.name)
        }
        XCTAssertEqual(model.tensor(0).sourceLayout, .nchw)
        XCTAssertEqual(model.tensor(7).sourceLayout, .nc)
        let kinds: [OpKind] = [.conv2D, .conv2D, .conv2D, .lookupTable, .add, .globalAveragePool, .fullyConnected]
        for (i, op) in source.ops.enumerated() {
            let d = model.op(i)
            XCTAssertEqual(d.kind, kinds[i])
            XCTAssertEqual(d.variant, .reference)
            XCTAssertEqual(d.inputs, op.inputs)
            XCTAssertEqual(d.outputs, op.outputs)
            XCTAssertEqual(model.opName(i), op.name)
        }
        XCTAssertEqual(model.op(0).weightBytes, 8 * 3 * 3 * 3)
        XCTAssertEqual(model.op(0).constantBytes, 216 + 32 + 32 + 32)
        XCTAssertEqual(model.op(2).constantBytes, 64 + 0 + 4 + 4)  // no bias, one multiplier
        XCTAssertEqual(model.op(0).multiplyAccumulates, 8 * 8 * 8 * 27)
        XCTAssertEqual(model.op(6).weightBytes, 40)
    }

    func testConstantsAreSixteenByteAlignedAndReadInPlace() throws {
        let source = TestModels.small()
        let buffer = AlignedBuffer(try ModelWriter(kernels: .reference).write(source))
        let model = try Model(bytes: buffer.bytes)
        let op = model.opRecord(0)
        let pointer = model.constantPointer(op, OpLayout.convWeights)
        XCTAssertEqual(UInt(bitPattern: pointer) % 16, 0)
        XCTAssertTrue(pointer >= buffer.bytes.baseAddress! && pointer < buffer.bytes.baseAddress! + buffer.count)
        guard case let .conv2D(_, _, weights, _, _) = source.ops[0].kind else { return XCTFail() }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Int8.self), count: weights.count)), weights)
    }

    func testWithoutNamesNamesAreEmpty() throws {
        let buffer = AlignedBuffer(try ModelWriter(includeNames: false).write(TestModels.small()))
        let model = try Model(bytes: buffer.bytes)
        XCTAssertFalse(model.hasNames)
        XCTAssertEqual(model.tensorName(3), "")
        XCTAssertEqual(model.opName(1), "")
    }

    func testLifetimesSpanFromProducerToLastReader() {
        let lifetimes = ModelWriter.lifetimes(TestModels.small())
        let expected: [(Int, Int)] = [(0, 0), (0, 1), (1, 4), (2, 3), (3, 4), (4, 5), (5, 6), (6, 6)]
        for (t, e) in expected.enumerated() {
            XCTAssertEqual(lifetimes[t]?.first, e.0, "tensor \(t)")
            XCTAssertEqual(lifetimes[t]?.last, e.1, "tensor \(t)")
        }
    }

    func testConstantTensorsGetNoArenaBuffer() throws {
        let source = TestModels.layoutOps()
        XCTAssertNil(ModelWriter.lifetimes(source)[7])
        let plan = ModelWriter.planArena(source)
        XCTAssertNil(plan.tensorRequest[7])
        // (No memory passes: tensor 7 keeps its index; the concat fold would renumber it.)
        let buffer = AlignedBuffer(try ModelWriter(memoryPasses: .none).write(source))
        let model = try Model(bytes: buffer.bytes)
        XCTAssertEqual(model.tensor(7).storage, .constant)
        XCTAssertNil(model.tensor(7).arenaOffset)
    }

    func testInPlaceHintsForLookupTableAndAddWhoseFirstInputDies() {
        let plan = ModelWriter.planArena(TestModels.small())
        // t4 = lookupTable(t3), t3 dies there; t5 = add(t4, t2), t4 dies there.
        XCTAssertEqual(plan.requests[plan.tensorRequest[4]!].mayReuse, plan.tensorRequest[3])
        XCTAssertEqual(plan.requests[plan.tensorRequest[5]!].mayReuse, plan.tensorRequest[4])
        // Convolutions never work in place.
        XCTAssertNil(plan.requests[plan.tensorRequest[1]!].mayReuse)
        XCTAssertNil(plan.requests[plan.tensorRequest[2]!].mayReuse)
        // reshape of a tensor that dies there reuses it too.
        let layout = ModelWriter.planArena(TestModels.layoutOps())
        XCTAssertEqual(layout.requests[layout.tensorRequest[10]!].mayReuse, layout.tensorRequest[9])
    }

    func testStatedArenaSizeAndLowerBoundAreThePlannersResult() throws {
        let source = TestModels.small()
        let plan = ModelWriter.planArena(source)
        let buffer = AlignedBuffer(try ModelWriter(memoryPasses: .none).write(source))
        let model = try Model(bytes: buffer.bytes)
        XCTAssertEqual(model.arenaSize, plan.plan.arenaSize)
        XCTAssertEqual(model.arenaLowerBound, plan.plan.lowerBound)
        for t in 0..<model.tensorCount {
            XCTAssertEqual(model.tensor(t).arenaOffset, plan.plan.offsets[plan.tensorRequest[t]!])
        }
        XCTAssertGreaterThanOrEqual(model.arenaSize, model.arenaLowerBound)
    }

    func testPlannerHonoursTheInPlaceHintsAndTheReaderAcceptsThem() throws {
        let buffer = AlignedBuffer(try ModelWriter().write(TestModels.small()))
        let model = try Model(bytes: buffer.bytes)
        XCTAssertEqual(model.tensor(4).arenaOffset, model.tensor(3).arenaOffset, "lookup table in place")
        XCTAssertEqual(model.tensor(5).arenaOffset, model.tensor(4).arenaOffset, "add over its first input")
    }

    func testWriterReportsAnInvalidModelWithTheRuntimeError() {
        var source = TestModels.small()
        source.tensors[1].shape = TensorShape(n: 1, h: 7, w: 8, c: 8)  // conv output should be 8×8
        XCTAssertThrowsError(try ModelWriter().write(source)) { error in
            guard case ModelWriterError.validationFailed(.invalidOp(index: 0, reason: .shapeMismatch(tensor: 1, let expected, let found))) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(expected, TensorShape(n: 1, h: 8, w: 8, c: 8))
            XCTAssertEqual(found, TensorShape(n: 1, h: 7, w: 8, c: 8))
        }
    }

    func testWriterRejectsAConstantOutput() {
        var source = TestModels.small()
        source.tensors[3].data = [Int8](repeating: 0, count: 128)
        XCTAssertThrowsError(try ModelWriter().write(source)) { error in
            XCTAssertEqual(error as? ModelWriterError, .outputIsConstant(op: "pw", tensor: "pw"))
        }
    }
}
