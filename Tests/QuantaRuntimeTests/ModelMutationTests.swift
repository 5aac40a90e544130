import XCTest
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

/// Takes valid models and, thousands of times, flips bytes, truncates, and rewrites
/// length, count and offset fields, recomputing the checksum (and size) so that validation
/// beyond the checksum runs. Loading must never crash; when it succeeds, invoke must stay
/// inside the arena (checked with canary bytes around it).
final class ModelMutationTests: XCTestCase {
    static let canary: UInt8 = 0xA5
    static let guardBytes = 64

    enum Outcome { case rejected, ran, skipped }

    /// Loads `bytes`, and if they validate, invokes with the arena inside canaries.
    func loadAndRun(_ bytes: [UInt8], rng: inout TestRandom) -> Outcome {
        let file = AlignedBuffer(bytes)
        let model: Model
        do throws(ModelError) {
            model = try Model(bytes: file.bytes)
        } catch {
            return .rejected
        }
        // A mutated arena size may ask for a lot of memory; such files are still valid.
        guard model.arenaSize <= 1 << 20 else { return .skipped }
        let g = Self.guardBytes
        let block = AlignedBuffer(count: g + model.arenaSize + g, fill: Self.canary)
        let arena = UnsafeMutableRawBufferPointer(rebasing: block.raw[g..<(g + model.arenaSize)])
        guard let interpreter = try? Interpreter(model: model, arena: arena) else {
            XCTFail("binding an arena of the stated size failed")
            return .rejected
        }
        for i in 0..<model.inputCount {
            let view = interpreter.input(i)
            for k in 0..<view.count { view.data[k] = Int8(truncatingIfNeeded: rng.next()) }
        }
        interpreter.invoke()
        for k in 0..<g {
            if block.raw[k] != Self.canary || block.raw[g + model.arenaSize + k] != Self.canary {
                XCTFail("invoke wrote outside the arena (canary \(k))")
                break
            }
        }
        // The model bytes are read-only for the interpreter.
        XCTAssertTrue(file.bytes.elementsEqual(bytes), "invoke changed the model bytes")
        return .ran
    }

    /// Interesting values for 32-bit fields.
    static func interesting(_ old: Int, _ rng: inout TestRandom) -> Int {
        switch rng.int(0...9) {
        case 0: return 0
        case 1: return -1
        case 2: return Int(Int32.max)
        case 3: return Int(Int32.min)
        case 4: return old + rng.int(-4...4)
        case 5: return old * 2
        case 6: return old / 2
        case 7: return 1 << rng.int(0...30)
        case 8: return (1 << rng.int(0...30)) - 1
        default: return rng.int(-300...300)
        }
    }

    func mutate(_ base: [UInt8], _ rng: inout TestRandom) -> [UInt8] {
        var f = base
        let n = f.count
        func word(_ o: Int) -> Int {
            Int(Int32(bitPattern: UInt32(f[o]) | UInt32(f[o + 1]) << 8 | UInt32(f[o + 2]) << 16 | UInt32(f[o + 3]) << 24))
        }
        func set(_ o: Int, _ v: Int) {
            let u = UInt32(truncatingIfNeeded: v)
            for k in 0..<4 { f[o + k] = UInt8(truncatingIfNeeded: u >> (8 * UInt32(k))) }
        }
        switch rng.int(0...5) {
        case 0:  // flip random bytes
            for _ in 0..<rng.int(1...4) { f[rng.int(0...(n - 1))] ^= UInt8(truncatingIfNeeded: 1 << rng.int(0...7)) }
        case 1:  // random byte values
            for _ in 0..<rng.int(1...3) { f[rng.int(0...(n - 1))] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2, 3:  // rewrite an aligned 32-bit field (lengths, counts, offsets, shapes, parameters)
            for _ in 0..<rng.int(1...2) {
                let o = 4 * rng.int(2...(n / 4 - 1))
                if o >= 16 && o < 24 { continue }
                set(o, Self.interesting(word(o), &rng))
            }
        case 4:  // rewrite a field of the header or section directory
            let o = [8, 12, 24, 28].randomElementOrDirectory(&rng)
            set(o, Self.interesting(word(o), &rng))
        default:  // truncate (and state the new size, so the checksum is checked over it)
            let keep = rng.int(ModelFormat.headerSize...(n - 1))
            f = Array(f.prefix(keep))
            if rng.int(0...3) > 0 {
                set(8, keep)
            }
        }
        if f.count >= ModelFormat.headerSize && rng.int(0...15) > 0 { ModelWriter.sealChecksum(&f) }
        return f
    }

    func runMutations(_ source: QuantizedModel, count: Int, seed: UInt64) throws {
        let base = try ModelWriter().write(source)
        var rng = TestRandom(seed: seed)
        var outcomes: [Outcome: Int] = [:]
        XCTAssertEqual(loadAndRun(base, rng: &rng), .ran)
        for _ in 0..<count {
            outcomes[loadAndRun(mutate(base, &rng), rng: &rng), default: 0] += 1
        }
        // Both paths are exercised: many mutants are rejected, many still run.
        XCTAssertGreaterThan(outcomes[.rejected, default: 0], count / 4)
        XCTAssertGreaterThan(outcomes[.ran, default: 0], count / 20)
    }

    func testMutatedSmallModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        try runMutations(TestModels.small(), count: 5000, seed: 11)
    }

    func testMutatedResizeModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        try runMutations(TestModels.resizeOps(), count: 2000, seed: 13)
    }

    func testMutatedViewModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        try runMutations(TestModels.viewOps(), count: 2000, seed: 14)
    }

    func testMutatedLayoutModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        try runMutations(TestModels.layoutOps(), count: 5000, seed: 12)
    }

    /// Fused inverted-residual and depthwise-in-place ops (windows, row buffers, GEMM panel
    /// in their scratch; outputs over inputs).
    func testMutatedFusedBlockModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        try runMutations(MemoryOpsTests.blocks(seed: 5), count: 5000, seed: 13)
    }

    /// The same with every 1×1 layer on the uint8 GEMM (`.pointwiseU8`): mutated packed
    /// weights either keep every pair within 128 or are rejected at load.
    func testMutatedU8GEMMModelsNeverCrashAndInvokeStaysInsideTheArena() throws {
        let source = MemoryOpsTests.blocks(seed: 6, pairBounded: true)
        let file = AlignedBuffer(try ModelWriter().write(source))  // outlives the model that reads it
        let model = try Model(bytes: file.bytes)
        // (The 1×1 op at the arena's peak runs `.directGEMM`; the others and the fused stages keep the uint8 GEMM.)
        XCTAssertTrue((0..<model.opCount).contains { model.op($0).variant == .pointwiseU8 || model.fusedStageVariants($0).contains(.pointwiseU8) })
        withExtendedLifetime(file) {}
        try runMutations(source, count: 5000, seed: 17)
    }
}

private extension Array where Element == Int {
    func randomElementOrDirectory(_ rng: inout TestRandom) -> Int {
        if rng.int(0...1) == 0 { return self[rng.int(0...(count - 1))] }
        return ModelFormat.directoryOffset + 4 * rng.int(0...(2 * ModelSection.directoryCount - 1))
    }
}
