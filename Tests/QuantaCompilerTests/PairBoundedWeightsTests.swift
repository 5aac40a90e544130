import XCTest
import QuantaKernels
@testable import QuantaCompiler

/// `WeightQuantization.quantize(_:channels:perTensor:pairBound:)`: every adjacent pair fits
/// the uint8 GEMM's bound, with the scale and error the doc comment gives.
final class PairBoundedWeightsTests: XCTestCase {
    func testEveryPairFitsWithTheStatedScaleAndError() {
        var g = TestRandom(seed: 5)
        for trial in 0..<40 {
            let channels = Int.random(in: 1...12, using: &g)
            let depth = Int.random(in: 1...40, using: &g)
            // Some channels with one pair holding both extremes (the widest scale), some sparse.
            let weights: [Float] = (0..<(channels * depth)).map { i in
                switch (i / depth + trial) % 3 {
                case 0: return Float.random(in: -1...1, using: &g)
                case 1: return i % depth < 2 ? (i % 2 == 0 ? 0.9 : -0.9) : Float.random(in: -0.1...0.1, using: &g)
                default: return Int.random(in: 0..<4, using: &g) == 0 ? Float.random(in: -2...2, using: &g) : 0
                }
            }
            for perTensor in [false, true] {
                let q = WeightQuantization.quantize(weights, channels: channels, perTensor: perTensor, pairBound: true)
                let plain = WeightQuantization.quantize(weights, channels: channels, perTensor: perTensor)
                XCTAssertTrue(q.values.withUnsafeBufferPointer {
                    PointwiseU8GEMM.pairsFit(weights: $0.baseAddress!, weightRowStride: depth, depth: depth, columns: channels)
                }, "trial \(trial)")
                for c in 0..<channels {
                    let block = weights[(c * depth)..<((c + 1) * depth)]
                    var widest: Float = 0
                    for i in stride(from: 0, to: depth - 1, by: 2) { widest = max(widest, abs(block[block.startIndex + i]) + abs(block[block.startIndex + i + 1])) }
                    // Per channel: max(max|w| / 127, widest pair / 128); never narrower than plain.
                    XCTAssertGreaterThanOrEqual(q.scales[c], plain.scales[c])
                    if !perTensor && block.contains(where: { $0 != 0 }) {
                        XCTAssertEqual(q.scales[c], max(plain.scales[c], widest / 128), accuracy: q.scales[c] * 1e-6)
                    }
                    for i in (c * depth)..<((c + 1) * depth) {
                        let error = abs(Float(q.values[i]) * q.scales[c] - weights[i])
                        XCTAssertLessThanOrEqual(error, q.scales[c] * 1.0001, "trial \(trial) weight \(i)")
                    }
                }
            }
        }
    }

    func testAPairThatRoundsTo129HasTheWeightRoundedFartherMovedTowardZero() {
        // One pair at exactly 128 units (scale 1/128): 64.5 and 63.5 round (half away from
        // zero) to 65 + 64 = 129; both rounded 0.5 away, so the first gives way: 64 + 64.
        let tie = WeightQuantization.quantize([64.5 / 128, 63.5 / 128], channels: 1, perTensor: false, pairBound: true)
        XCTAssertEqual(tie.scales, [1.0 / 128])
        XCTAssertEqual(tie.values, [64, 64])
        // 64.6 → 65 (0.4 away), 63.4 → 63: 128 fits, nothing moves.
        XCTAssertEqual(WeightQuantization.quantize([64.6 / 128, -63.4 / 128], channels: 1, perTensor: false, pairBound: true).values, [65, -63])
        // -64.5 → -65 (0.5 away), 63.7 → 64 (0.3 away): the first moves toward zero.
        XCTAssertEqual(WeightQuantization.quantize([-64.5 / 128.2, 63.7 / 128.2], channels: 1, perTensor: false, pairBound: true).values.map { Int($0) }.reduce(0) { $0 + abs($1) }, 128)
        // Without the bound the same weights keep 127 levels for the largest.
        XCTAssertEqual(WeightQuantization.quantize([64.5 / 128, 63.5 / 128], channels: 1, perTensor: false).values, [127, 125])
    }

    /// On a real model: off by default; on, only the ungrouped 1×1 convolutions' weights
    /// change (and fit), every other layer's are those of the default quantization.
    func testTheOptionBoundsOnlyUngrouped1x1Convolutions() throws {
        XCTAssertFalse(QuantizationOptions().pairBoundedWeights)
        let m = repositoryRoot + "/Tests/AccuracyModels/shufflenet_v2_0.5_32"
        let graph = try QuantizePipeline.importGraph(onnxPath: m + ".onnx")
        let samples = try QuantizePipeline.loadSamples(path: m + "_calibration.npy", for: graph, limit: 4).samples.map { [$0] }
        var options = QuantizationOptions()
        options.pairBoundedWeights = true
        let bounded = try ModelQuantizer.quantize(graph: graph, calibration: samples, options: options)
        let plain = try ModelQuantizer.quantize(graph: graph, calibration: samples)
        XCTAssertEqual(bounded.ops.count, plain.ops.count)
        var changed = 0, kept = 0
        for (b, p) in zip(bounded.ops, plain.ops) {
            guard case let .conv2D(parameters, filter, wb, _, _) = b.kind, case let .conv2D(_, _, wp, _, _) = p.kind else { continue }
            if parameters.groups == 1 && GroupedConv.isDirect(filter: filter, parameters: parameters) {
                XCTAssertTrue(wb.withUnsafeBufferPointer {
                    PointwiseU8GEMM.pairsFit(weights: $0.baseAddress!, weightRowStride: filter.inputChannelsPerGroup,
                                             depth: filter.inputChannelsPerGroup, columns: filter.outputChannels)
                }, b.name)
                changed += wb == wp ? 0 : 1
            } else {
                XCTAssertEqual(wb, wp, b.name)
                kept += 1
            }
        }
        XCTAssertGreaterThan(changed, 5)
        XCTAssertGreaterThan(kept, 5)
    }
}
