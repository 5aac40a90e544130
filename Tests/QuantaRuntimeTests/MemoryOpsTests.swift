import XCTest
import CAllocationCounter
import QuantaCompiler
import QuantaKernels
import QuantaRuntime

/// The fused inverted-residual op and the depthwise-in-place op in the `.qmodel`: written,
/// validated with typed errors, and run by the interpreter with the unfused ops' bits and
/// no allocation.
final class MemoryOpsTests: XCTestCase {
    /// conv 3×3 (stem) → [expand 1×1 → depthwise 3×3 → project 1×1 → add] → [expand →
    /// depthwise stride 2 → project] → depthwise 3×3 stride 1 → global average pool.
    /// With `pairBounded`, the 1×1 layers' weights are in -64...64, so their pairs fit the
    /// uint8 GEMM (`KernelVariant.pointwiseU8`).
    static func blocks(seed: UInt64, pairBounded: Bool = false) -> QuantizedModel {
        var rng = TestRandom(seed: seed)
        var m = QuantizedModel()
        func tensor(_ name: String, _ shape: TensorShape) -> Int {
            m.tensors.append(QuantizedTensor(
                name: name, shape: shape,
                quantization: QuantizationParameters(scale: Float(rng.int(20...80)) / 1000, zeroPoint: Int32(rng.int(-20...20)))))
            return m.tensors.count - 1
        }
        func conv(_ name: String, _ x: Int, _ out: Int, k: Int, stride: Int = 1, pad: Padding = .zero, depthwise: Bool = false) {
            let cin = m.tensors[x].shape.c, cout = m.tensors[out].shape.c
            let filter = FilterShape(outputChannels: cout, kernelH: k, kernelW: k, inputChannelsPerGroup: depthwise ? 1 : cin)
            let p = Conv2DParameters(strideH: stride, strideW: stride, padding: pad, groups: depthwise ? cin : 1)
            precondition(p.outputShape(input: m.tensors[x].shape, filter: filter) == m.tensors[out].shape)
            m.ops.append(QuantizedOp(
                name: name,
                kind: .conv2D(
                    parameters: p, filter: filter, weights: rng.int8s(filter.elementCount, pairBounded && k == 1 ? -64...64 : -127...127),
                    bias: rng.int32s(cout, -2000...2000),
                    requantization: TestModels.requantization(cout, &rng, clampMin: Int32(rng.int(-128...0)))),
                inputs: [x], outputs: [out]))
        }
        let input = tensor("input", TensorShape(h: 12, w: 10, c: 3))
        let x = tensor("x", TensorShape(h: 12, w: 10, c: 6))
        conv("stem", input, x, k: 3, pad: .uniform(1))
        let e1 = tensor("e1", TensorShape(h: 12, w: 10, c: 24)), d1 = tensor("d1", TensorShape(h: 12, w: 10, c: 24))
        let p1 = tensor("p1", TensorShape(h: 12, w: 10, c: 6)), y1 = tensor("y1", TensorShape(h: 12, w: 10, c: 6))
        conv("expand1", x, e1, k: 1)
        conv("dw1", e1, d1, k: 3, pad: .uniform(1), depthwise: true)
        conv("project1", d1, p1, k: 1)
        func q(_ a: Int, _ b: Int, _ o: Int) -> AddQuantization {
            let sa = Double(m.tensors[a].quantization.scale), sb = Double(m.tensors[b].quantization.scale)
            let so = Double(m.tensors[o].quantization.scale)
            let twice = 2 * max(sa, sb)
            let (m1, s1) = testMultiplier(sa / twice)
            let (m2, s2) = testMultiplier(sb / twice)
            let (mo, so2) = testMultiplier(twice / (Double(1 << 20) * so))
            return AddQuantization(
                input1ZeroPoint: m.tensors[a].quantization.zeroPoint, input2ZeroPoint: m.tensors[b].quantization.zeroPoint,
                outputZeroPoint: m.tensors[o].quantization.zeroPoint, leftShift: 20, input1Multiplier: m1, input1Shift: s1,
                input2Multiplier: m2, input2Shift: s2, outputMultiplier: mo, outputShift: so2)
        }
        m.ops.append(QuantizedOp(name: "add1", kind: .add(q(p1, x, y1)), inputs: [p1, x], outputs: [y1]))
        let e2 = tensor("e2", TensorShape(h: 12, w: 10, c: 18)), d2 = tensor("d2", TensorShape(h: 6, w: 5, c: 18))
        let y2 = tensor("y2", TensorShape(h: 6, w: 5, c: 8))
        conv("expand2", y1, e2, k: 1)
        conv("dw2", e2, d2, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), depthwise: true)
        conv("project2", d2, y2, k: 1)
        let z = tensor("z", TensorShape(h: 6, w: 5, c: 8))
        conv("dw3", y2, z, k: 3, pad: .uniform(1), depthwise: true)
        let out = tensor("out", TensorShape(h: 1, w: 1, c: 8))
        let (gm, gs) = testMultiplier(Double(m.tensors[z].quantization.scale / m.tensors[out].quantization.scale))
        m.ops.append(QuantizedOp(name: "pool", kind: .globalAveragePool(multiplier: gm, shift: gs), inputs: [z], outputs: [out]))
        m.inputs = [input]
        m.outputs = [out]
        m.pairBoundedWeights = pairBounded
        return m
    }

    func kinds(_ bytes: [UInt8]) throws -> [OpKind] {
        let buffer = AlignedBuffer(bytes)
        let model = try Model(bytes: buffer.bytes)
        return (0..<model.opCount).map { model.op($0).kind }
    }

    func testFusedAndInPlaceOpsGiveTheUnfusedOpsBits() throws {
        var fastStages = 0, directStages = 0
        for seed in UInt64(1)...6 {
          for kernels in [KernelSelection.fast, .reference] {
            let source = Self.blocks(seed: seed)
            // The smallest-arena plan fuses both blocks of this small model; every eligible
            // depthwise runs in place (by default only where the arena needs it).
            let bytes = try ModelWriter(kernels: kernels, memoryPasses: MemoryPassOptions(inPlaceOnlyWhereArenaNeedsIt: false, smallestArena: true)).write(source)
            XCTAssertEqual(try kinds(bytes), [.conv2D, .invertedResidual, .invertedResidual, .depthwiseConv2DInPlace, .globalAveragePool])
            let buffer = AlignedBuffer(bytes)
            let model = try Model(bytes: buffer.bytes)
            let arena = AlignedBuffer(count: model.arenaSize)
            let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
            var rng = TestRandom(seed: seed &+ 100)
            let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
            let expected = DirectExecutor.run(source, inputs: [input])
            let view = interpreter.input(0)
            for (i, v) in input.enumerated() { view.data[i] = v }
            interpreter.invoke()
            XCTAssertEqual(Array(interpreter.output(0).buffer), expected[source.outputs[0]], "seed \(seed), \(kernels) kernels")
            fastStages += (1...2).flatMap { model.fusedStageVariants($0) }.filter { $0 != .reference }.count
            directStages += (1...2).flatMap { model.fusedStageVariants($0) }.filter { $0 == .directGEMM }.count
          }
        }
        XCTAssertGreaterThan(fastStages, 12)
        // Where a block's panel set the peak, its 1×1 stages read their rows in place.
        XCTAssertGreaterThan(directStages, 0)
    }

    /// Fused blocks whose expand and project stages run the uint8 GEMM give the unfused
    /// reference's bits.
    func testFusedBlocksWithU8StagesGiveTheUnfusedOpsBits() throws {
        for seed in UInt64(1)...4 {
            let source = Self.blocks(seed: seed, pairBounded: true)
            let bytes = try ModelWriter(kernels: .fast, memoryPasses: MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: false)).write(source)
            let buffer = AlignedBuffer(bytes)
            let model = try Model(bytes: buffer.bytes)
            XCTAssertEqual(model.fusedStageVariants(1), [.pointwiseU8, .depthwise3x3, .pointwiseU8])
            XCTAssertEqual(model.fusedStageVariants(2), [.pointwiseU8, .depthwise3x3, .pointwiseU8])
            let arena = AlignedBuffer(count: model.arenaSize)
            let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
            var rng = TestRandom(seed: seed &+ 200)
            let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
            let expected = DirectExecutor.run(source, inputs: [input])
            for (i, v) in input.enumerated() { interpreter.input(0).data[i] = v }
            interpreter.invoke()
            XCTAssertEqual(Array(interpreter.output(0).buffer), expected[source.outputs[0]], "seed \(seed)")
        }
    }

    func testInvokeWithFusedOpsMakesNoHeapAllocation() throws {
        let bytes = AlignedBuffer(try ModelWriter().write(Self.blocks(seed: 3)))
        let model = try Model(bytes: bytes.bytes)
        let arena = AlignedBuffer(count: model.arenaSize)
        let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
        interpreter.invoke()
        quanta_allocation_counter_start()
        interpreter.invoke()
        quanta_allocation_counter_stop()
        XCTAssertEqual(quanta_allocation_counter_allocations(), 0)
    }

    /// Byte offset of parameter word `p` of op `i` in a model file.
    static func parameterOffset(_ bytes: [UInt8], op i: Int, word p: Int) -> Int {
        func word(_ o: Int) -> Int { Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Int32.self) })) }
        let ops = word(ModelFormat.directoryOffset + 8)
        let record = ops + word(ops + 8 + 4 * i)
        return record + 12 + 4 * (Int(bytes[record + 2]) + Int(bytes[record + 3])) + 4 * p
    }

    func parameterOffset(_ bytes: [UInt8], op i: Int, word p: Int) -> Int { Self.parameterOffset(bytes, op: i, word: p) }

    static func mutated(_ bytes: [UInt8], at offset: Int, to value: Int32) -> [UInt8] {
        var b = bytes
        withUnsafeBytes(of: value.littleEndian) { for k in 0..<4 { b[offset + k] = $0[k] } }
        ModelWriter.sealChecksum(&b)
        return b
    }

    func mutated(_ bytes: [UInt8], at offset: Int, to value: Int32) -> [UInt8] { Self.mutated(bytes, at: offset, to: value) }

    func load(_ bytes: [UInt8]) -> ModelError? { ModelWriter.validate(bytes) }

    /// `blocks(seed:)` written with every fusable block fused (the default keeps a block
    /// fused only where the arena needs it, which depends on the other passes), so that
    /// op 1 is a fused block whatever the planner prefers.
    static func fusedBytes(seed: UInt64) throws -> [UInt8] {
        try ModelWriter(memoryPasses: MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: false)).write(blocks(seed: seed))
    }

    func testFusedOpWithWrongRecordedRingRowsIsRejected() throws {
        let bytes = try Self.fusedBytes(seed: 1)
        let ringWord = 17  // OpLayout.irScratchLayout
        let bad = mutated(bytes, at: parameterOffset(bytes, op: 1, word: ringWord), to: 2)
        XCTAssertEqual(load(bad), .invalidOp(index: 1, reason: .scratchLayoutMismatch(word: ringWord, found: 2, expected: 3)))
    }

    func testFusedOpWithTooSmallScratchIsRejected() throws {
        let bytes = try ModelWriter(memoryPasses: MemoryPassOptions(smallestArena: true)).write(Self.blocks(seed: 1))
        let buffer = AlignedBuffer(bytes)
        let model = try Model(bytes: buffer.bytes)
        let op = model.op(1)
        let size = op.scratchSize
        // Window of 3 rows of E, one row of D and of P, plus the GEMM panel of the 24-deep
        // project when the stages run the fast kernels (the planner may trade it away here).
        let panel = model.fusedStageVariants(1)[2] == .pointwise ? PointwiseGEMM.panelByteCount(depth: 24) : 0
        XCTAssertEqual(size, 3 * 10 * 24 + 10 * 24 + 10 * 6 + panel)
        // The scratch list follows the tensor offsets in the arena section; op 1's is the
        // one whose size matches (the stem conv has none with reference kernels).
        func word(_ o: Int) -> Int { Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Int32.self) })) }
        let arenaSection = word(ModelFormat.directoryOffset + 8 * 3)
        let list = arenaSection + 16 + 4 * model.tensorCount
        let k = (0..<model.scratchCount).first { word(list + 8 * $0) == op.scratchOffset! && word(list + 8 * $0 + 4) == size }!
        let bad = mutated(bytes, at: list + 8 * k + 4, to: Int32(size - 1))
        XCTAssertEqual(load(bad), .invalidOp(index: 1, reason: .scratchTooSmall(needed: size, found: size - 1)))
    }

    func testFusedOpWithUnknownResidualModeIsRejected() throws {
        let bytes = try Self.fusedBytes(seed: 1)
        let bad = mutated(bytes, at: parameterOffset(bytes, op: 1, word: 13), to: 3)
        XCTAssertEqual(load(bad), .invalidOp(index: 1, reason: .invalidParameter(.count, value: 3)))
    }

    func testFusedOpWithWrongIntermediateZeroPointOrderIsRejected() throws {
        // Swapping add(x, P) to add(P, x) without swapping the add's constants breaks the
        // zero points the add must carry.
        let source = Self.blocks(seed: 1)
        let bytes = try Self.fusedBytes(seed: 1)
        let residual = mutated(bytes, at: parameterOffset(bytes, op: 1, word: 13), to: 1)
        guard case let .invalidOp(index, reason)? = load(residual) else { return XCTFail("accepted a swapped residual") }
        XCTAssertEqual(index, 1)
        XCTAssertEqual(reason, .quantizationMismatch(tensor: 1))
    }

    func testDepthwiseInPlaceWithStrideIsRejected() {
        // A 1×1 input keeps its shape under stride 2, but the op must not claim to run in place.
        var m = QuantizedModel()
        let q = QuantizationParameters(scale: 0.05, zeroPoint: 0)
        m.tensors = [
            QuantizedTensor(name: "x", shape: TensorShape(h: 1, w: 1, c: 4), quantization: q),
            QuantizedTensor(name: "y", shape: TensorShape(h: 1, w: 1, c: 4), quantization: q),
        ]
        let filter = FilterShape(outputChannels: 4, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1)
        m.ops = [QuantizedOp(
            name: "dw",
            kind: .depthwiseConv2DInPlace(
                parameters: Conv2DParameters(strideH: 2, strideW: 2, groups: 4), filter: filter, weights: [1, 2, 3, 4],
                bias: [0, 0, 0, 0], requantization: RequantizationConstants(multipliers: [1 << 30], shifts: [0])),
            inputs: [0], outputs: [1])]
        m.inputs = [0]
        m.outputs = [1]
        XCTAssertThrowsError(try ModelWriter(memoryPasses: .none).write(m)) { error in
            XCTAssertEqual(error as? ModelWriterError, .validationFailed(.invalidOp(index: 0, reason: .notRunnableInPlace)))
        }
    }
}

/// Rewrites of the memory ops' own parameter words: every accepted file still invokes
/// inside its arena (canaries) and never traps.
final class MemoryOpsMutationTests: XCTestCase {
    func testMutatedFusedAndInPlaceParametersAreRejectedOrRunInsideTheArena() throws {
        // Every fusable block fused and every eligible depthwise in place (the default keeps
        // them only where the arena needs them).
        let base = try ModelWriter(memoryPasses: MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: false, inPlaceOnlyWhereArenaNeedsIt: false))
            .write(MemoryOpsTests.blocks(seed: 2))
        let helper = MemoryOpsTests.self
        let kinds = try ModelFileKinds(base)
        XCTAssertEqual(kinds.prefix(4).dropFirst(), [.invertedResidual, .invertedResidual, .depthwiseConv2DInPlace], "the ops the trials rewrite")
        var rng = TestRandom(seed: 77)
        var ran = 0, rejected = 0
        for trial in 0..<3000 {
            // Op 1 and 2 are fused blocks (81 words), op 3 the in-place depthwise (25 words).
            let op = [1, 2, 3][trial % 3]
            let words = op == 3 ? 25 : 81
            var bytes = base
            for _ in 0..<rng.int(1...2) {
                let o = helper.parameterOffset(bytes, op: op, word: rng.int(0...(words - 1)))
                let old = Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: Int32.self) }))
                let values = [0, 1, -1, 2, 3, old + 1, old - 1, old * 2, 127, 128, -128, 4096, Int(Int32.max)]
                bytes = helper.mutated(bytes, at: o, to: Int32(truncatingIfNeeded: values[rng.int(0...(values.count - 1))]))
            }
            let file = AlignedBuffer(bytes)
            guard let model = try? Model(bytes: file.bytes) else { rejected += 1; continue }
            let guardBytes = 64
            let block = AlignedBuffer(count: guardBytes + model.arenaSize + guardBytes, fill: 0xA5)
            let arena = UnsafeMutableRawBufferPointer(rebasing: block.raw[guardBytes..<(guardBytes + model.arenaSize)])
            let interpreter = try Interpreter(model: model, arena: arena)
            interpreter.invoke()
            for k in 0..<guardBytes where block.raw[k] != 0xA5 || block.raw[guardBytes + model.arenaSize + k] != 0xA5 {
                XCTFail("trial \(trial): invoke wrote outside the arena")
                break
            }
            ran += 1
        }
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(ran, 100)
    }
}

/// The op kinds of a model file, in order.
func ModelFileKinds(_ bytes: [UInt8]) throws -> [OpKind] {
    let buffer = AlignedBuffer(bytes)
    let model = try Model(bytes: buffer.bytes)
    return (0..<model.opCount).map { model.op($0).kind }
}
