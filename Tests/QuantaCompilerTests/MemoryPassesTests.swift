import Foundation
import XCTest
import QuantaKernels
import QuantaRuntime
@testable import QuantaCompiler

/// Block fusion and depthwise in place on whole models: outputs byte-identical with the
/// passes on and off, plans that keep the planner's invariants, and the arena against the
/// naive bound of whole tensors.
final class MemoryPassesTests: XCTestCase {
    struct Written {
        var quantized: QuantizedModel
        var plain: [UInt8]
        var optimized: [UInt8]
        var samples: [[Float]]
    }

    /// Quantizes `onnx` on a few samples of `calibration` and writes it with and without the passes.
    func write(onnx: String, calibration: String, samples limit: Int = 4) throws -> Written {
        let graph = try QuantizePipeline.importGraph(onnxPath: onnx)
        let samples = try QuantizePipeline.loadSamples(path: calibration, for: graph, limit: limit)
        let quantized = try ModelQuantizer.quantize(graph: graph, calibration: samples.samples.map { [$0] })
        return Written(
            quantized: quantized, plain: try ModelWriter(memoryPasses: .none).write(quantized),
            optimized: try ModelWriter().write(quantized), samples: samples.samples)
    }

    /// Runs every sample through both files and compares the int8 outputs byte for byte;
    /// checks the optimized plan's invariants; returns (naive bound, arena with passes).
    @discardableResult
    func checkIdentical(_ w: Written, name: String) throws -> (naive: Int, arena: Int) {
        let plain = try QuantizedSession(bytes: w.plain)
        let optimized = try QuantizedSession(bytes: w.optimized)
        for sample in w.samples {
            // Different arenas: set the inputs of both (in-place ops may overwrite them).
            plain.setInput(0, float: sample)
            optimized.setInput(0, float: sample)
            plain.invoke()
            optimized.invoke()
            for k in 0..<plain.model.outputCount {
                XCTAssertEqual(plain.outputInt8(k), optimized.outputInt8(k), "\(name): output \(k) differs with the memory passes")
            }
        }
        let passed = MemoryPasses.apply(w.quantized).model
        let arena = ModelWriter.planArena(passed)
        XCTAssertNil(MemoryPlanner.verify(plan: arena.plan, requests: arena.requests), name)
        let naive = ModelInspection(model: optimized.model).naiveLowerBound
        XCTAssertEqual(naive, plain.model.arenaLowerBound, "\(name): naive bound recomputed from the fused file")
        XCTAssertEqual(optimized.model.arenaSize, arena.plan.arenaSize)
        print("\(name): naive bound \(naive) B, arena without passes \(plain.model.arenaSize) B, with passes \(optimized.model.arenaSize) B")
        return (naive, optimized.model.arenaSize)
    }

    func testDigitsModelOutputsAreIdenticalWithMemoryPasses() throws {
        let w = try write(onnx: repositoryRoot + "/Models/digits_mobilenet.onnx", calibration: repositoryRoot + "/Models/digits_calibration.npy")
        let r = try checkIdentical(w, name: "digits_mobilenet")
        XCTAssertLessThanOrEqual(r.arena, r.naive)
    }

    func testMobileNetV2OutputsAreIdenticalAndArenaIsAtMostHalfTheNaiveBound() throws {
        let m = repositoryRoot + "/Tests/AccuracyModels/mobilenet_v2_0.35_32"
        let w = try write(onnx: m + ".onnx", calibration: m + "_calibration.npy")
        let (_, decisions) = MemoryPasses.apply(w.quantized)
        XCTAssertGreaterThan(decisions.filter(\.fused).count, 5)
        let r = try checkIdentical(w, name: "mobilenet_v2_0.35_32")
        XCTAssertLessThanOrEqual(2 * r.arena, r.naive)
    }
}
