import Foundation
import XCTest
import QuantaKernels
import QuantaRuntime
@testable import QuantaCompiler

/// Whole models quantized once and written twice — optimized kernels (`--kernels fast`, the
/// default) and reference kernels — give the same bytes in every tensor: each op is run in
/// both interpreters and its output compared before the next op (the two arena plans
/// differ, so later ops may reuse a tensor's bytes).
final class FastKernelModelTests: XCTestCase {
    struct Case {
        var onnx: String
        var calibration: String
        var evaluation: String
    }

    static let cases: [Case] = {
        var cases = [Case(
            onnx: repositoryRoot + "/Models/digits_mobilenet.onnx", calibration: repositoryRoot + "/Models/digits_calibration.npy",
            evaluation: repositoryRoot + "/Models/digits_eval.npy")]
        for stem in ["mobilenet_v1_0.25_32", "mobilenet_v2_0.35_32", "mobilenet_v3_small_0.5_32", "shufflenet_v2_0.5_32"] {
            let m = repositoryRoot + "/Tests/AccuracyModels/" + stem
            cases.append(Case(onnx: m + ".onnx", calibration: m + "_calibration.npy", evaluation: m + "_eval.npy"))
        }
        return cases
    }()

    func testFastAndReferenceKernelsGiveIdenticalTensorsOnEveryModel() throws {
        var optimizedOps = 0
        for c in Self.cases {
            let graph = try QuantizePipeline.importGraph(onnxPath: c.onnx)
            let calibration = try QuantizePipeline.loadSamples(path: c.calibration, for: graph, limit: 8)
            let model = try ModelQuantizer.quantize(graph: graph, calibration: calibration.samples.map { [$0] })
            // Kernel variants only: the memory passes (fused blocks, in-place depthwise) would
            // change the op list between the two files (MemoryPassesTests covers them).
            let fast = try QuantizedSession(bytes: try ModelWriter(kernels: .fast, memoryPasses: .none).write(model), source: "fast")
            let reference = try QuantizedSession(
                bytes: try ModelWriter(kernels: .reference, memoryPasses: .none).write(model), source: "reference")
            let name = URL(fileURLWithPath: c.onnx).lastPathComponent
            let variants = (0..<fast.model.opCount).map { fast.model.op($0).variant }
            XCTAssertTrue(variants.contains(.pointwise) || variants.contains(.grouped), "\(name): \(variants)")
            XCTAssertTrue(variants.contains(.depthwise3x3) || variants.contains(.depthwise), "\(name): \(variants)")
            optimizedOps += variants.filter { $0 != .reference }.count
            XCTAssertTrue((0..<reference.model.opCount).allSatisfy { reference.model.op($0).variant == .reference })

            try compareOpByOp(fast, reference, samples: try QuantizePipeline.loadSamples(path: c.evaluation, for: graph, limit: 3).samples, name: name)
        }
        XCTAssertGreaterThan(optimizedOps, 50)
    }

    /// Runs both sessions op by op on each sample, failing at the first op whose output
    /// tensor differs, then compares whole invokes.
    func compareOpByOp(_ fast: QuantizedSession, _ reference: QuantizedSession, samples: [[Float]], name: String) throws {
        for (s, sample) in samples.enumerated() {
            fast.setInput(0, float: sample)
            reference.setInput(0, float: sample)
            for i in 0..<fast.model.opCount {
                fast.interpreter.invoke(ops: i..<(i + 1))
                reference.interpreter.invoke(ops: i..<(i + 1))
                let t = fast.model.op(i).outputs[0]
                let a = try XCTUnwrap(fast.interpreter.tensor(t)).buffer
                let b = try XCTUnwrap(reference.interpreter.tensor(t)).buffer
                if !a.elementsEqual(b) {
                    XCTFail("\(name) sample \(s): op \(i) (\(fast.model.op(i).variant)) output tensor \(t) differs")
                    break
                }
            }
            // And a whole invoke gives the same outputs.
            fast.setInput(0, float: sample)
            reference.setInput(0, float: sample)
            fast.invoke()
            reference.invoke()
            XCTAssertEqual(fast.outputInt8(0), reference.outputInt8(0), "\(name) sample \(s)")
        }
    }

    /// `--pair-bounded-weights`: every 1×1 groups-1 layer of the MobileNet and ShuffleNet
    /// models gets the uint8 GEMM, with the reference kernels' bits, op by op; unfused here,
    /// fused blocks in `MemoryOpsTests`.
    func testPairBoundedWeightsRunTheU8GEMMWithTheReferenceBits() throws {
        var u8Ops = 0
        for c in Self.cases {
            let graph = try QuantizePipeline.importGraph(onnxPath: c.onnx)
            let calibration = try QuantizePipeline.loadSamples(path: c.calibration, for: graph, limit: 8)
            var options = QuantizationOptions()
            options.pairBoundedWeights = true
            let model = try ModelQuantizer.quantize(graph: graph, calibration: calibration.samples.map { [$0] }, options: options)
            let fast = try QuantizedSession(bytes: try ModelWriter(kernels: .fast, memoryPasses: .none).write(model), source: "fast")
            let reference = try QuantizedSession(
                bytes: try ModelWriter(kernels: .reference, memoryPasses: .none).write(model), source: "reference")
            let name = URL(fileURLWithPath: c.onnx).lastPathComponent
            let variants = (0..<fast.model.opCount).map { fast.model.op($0).variant }
            // Every layer `choose` gives `.pointwise` takes the uint8 GEMM.
            XCTAssertFalse(variants.contains(.pointwise) && !variants.contains(.pointwiseU8), "\(name): \(variants)")
            u8Ops += variants.filter { $0 == .pointwiseU8 }.count
            try compareOpByOp(fast, reference, samples: try QuantizePipeline.loadSamples(path: c.evaluation, for: graph, limit: 2).samples, name: name)
        }
        XCTAssertGreaterThan(u8Ops, 30)
    }

    func testKernelsOptionSelectsTheWriterAndDefaultsToFast() {
        XCTAssertEqual(QuantizationOptions().kernels, .fast)
        XCTAssertEqual(ModelWriter().kernels, .fast)
        XCTAssertEqual(KernelSelection(rawValue: "reference"), .reference)
        XCTAssertNil(KernelSelection(rawValue: "slow"))
    }
}
