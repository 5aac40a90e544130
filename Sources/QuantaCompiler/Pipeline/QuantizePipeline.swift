import Foundation
import QuantaKernels
import QuantaRuntime

/// What `quanta quantize` reports: the model's shape of work, its memory, and how the int8
/// model agrees with the float reference on the calibration samples.
public struct QuantizeSummary: Codable, Equatable {
    public var model: String
    public var method: String
    public var samples: Int
    /// Op count by kind, e.g. "conv2D (depthwise)": 5.
    public var opsByKind: [String: Int]
    public var macs: Int
    public var floatWeightBytes: Int
    public var int8WeightBytes: Int
    public var modelFileBytes: Int
    public var arenaBytes: Int
    public var arenaLowerBound: Int
    /// The lower bound of any plan of whole tensors (before fusion and in-place depthwise).
    public var naiveLowerBound: Int = 0
    /// Inverted-residual blocks fused / fusable.
    public var fusedBlocks: Int = 0
    public var fusableBlocks: Int = 0
    /// Output 0 over all calibration samples.
    public var agreement: Agreement
    /// Each further output (a detector's heads), by name, over the same samples.
    public var otherOutputs: [NamedAgreement] = []
    public var classification: ClassificationAgreement?
    /// Clipping per tensor and outlier samples (`CalibrationReport`).
    public var calibration = CalibrationReport()

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public func text() -> String {
        var lines: [String] = []
        lines.append("model      \(model)")
        let ops = opsByKind.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        lines.append("ops        \(opsByKind.values.reduce(0, +)): \(ops)")
        lines.append("MACs       \(formatCount(macs))")
        lines.append("weights    \(formatBytes(floatWeightBytes)) float → \(formatBytes(int8WeightBytes)) int8 (incl. int32 bias and multipliers)")
        lines.append("file       \(formatBytes(modelFileBytes))")
        lines.append("arena      \(formatBytes(arenaBytes)) (naive lower bound of whole tensors: \(formatBytes(naiveLowerBound)); of this plan's buffers: \(formatBytes(arenaLowerBound)))")
        if fusableBlocks > 0 { lines.append("fused      \(fusedBlocks) of \(fusableBlocks) blocks (a row at a time through a row window in scratch)") }
        lines.append("calibrated \(samples) sample(s), method \(method)")
        lines += calibration.lines()
        lines.append("agreement  output SQNR \(formatSQNR(agreement.sqnr)) dB, cosine " + String(format: "%.5f", agreement.cosine) + ", max |error| " + String(format: "%.4g", agreement.maxAbsError))
        for o in otherOutputs {
            lines.append("           output '\(o.name)' SQNR \(formatSQNR(o.agreement.sqnr)) dB, cosine " + String(format: "%.5f", o.agreement.cosine)
                + ", max |error| " + String(format: "%.4g", o.agreement.maxAbsError))
        }
        if let c = classification {
            lines.append("           top-1 agreement int8 vs float " + String(format: "%.2f%%", 100 * c.agreementRate) + " (\(c.top1Agreements)/\(c.samples))")
        }
        return lines.joined(separator: "\n")
    }
}

func formatBytes(_ n: Int) -> String {
    if n < 10 * 1024 { return "\(n) B" }
    if n < 10 * 1024 * 1024 { return String(format: "%.1f KiB", Double(n) / 1024) }
    return String(format: "%.2f MiB", Double(n) / (1024 * 1024))
}

func formatCount(_ n: Int) -> String {
    if n < 10_000 { return "\(n)" }
    if n < 10_000_000 { return String(format: "%.1f K", Double(n) / 1e3) }
    return String(format: "%.2f M", Double(n) / 1e6)
}

/// The agreement of one named graph output.
public struct NamedAgreement: Codable, Equatable {
    public var name: String
    public var agreement: Agreement
}

/// The result of `QuantizePipeline.run`.
public struct QuantizeResult {
    public var summary: QuantizeSummary
    public var model: QuantizedModel
    public var bytes: [UInt8]
}

/// Import → passes → calibrate → quantize → plan → write → check, as `quanta quantize` runs it.
public enum QuantizePipeline {
    /// Imports an ONNX model and runs the standard graph passes (fold BN, fuse activations,
    /// fold pads and constants, drop identities): the float graph that calibration,
    /// quantization and evaluation all use.
    /// A float `.tflite` file (FlatBuffer identifier `TFL3`) is read by
    /// `TFLiteImporter.importFloatGraph` instead.
    public static func importGraph(onnxPath: String, inputShapes: [String: [Int]] = [:]) throws -> Graph {
        var graph: Graph
        if onnxPath.hasSuffix(".tflite") {
            let bytes = try FileIO.read(onnxPath)
            do {
                graph = try TFLiteImporter.importFloatGraph(bytes: bytes)
            } catch let error as TFLiteImportError {
                throw SourcedError(source: onnxPath, underlying: error)
            }
        } else {
            graph = try ONNXImporter.importModel(path: onnxPath, options: ONNXImportOptions(inputShapes: inputShapes))
        }
        try GraphPassPipeline.standard.run(on: &graph)
        try graph.validate()
        return graph
    }

    /// Loads samples for a graph with exactly one input.
    /// The most products one int8 accumulator may sum: the runtime's bound
    /// `terms · 255 · 128 + |bias| ≤ Int32.max` (docs/ROBUSTNESS.md) with zero bias.
    public static let maxAccumulatorTerms = Int(Int32.max) / (255 * 128)

    /// Refuses, before calibration, a convolution or fully connected layer that sums more
    /// products per output than an int32 accumulator holds (`maxAccumulatorTerms`): the
    /// written model would fail the runtime's check only after all the float work.
    public static func checkAccumulatorTerms(_ graph: Graph) throws {
        for node in graph.nodes {
            let terms: Int
            switch node.op {
            case .conv2D(let c): terms = c.filter.kernelH * c.filter.kernelW * c.filter.inputChannelsPerGroup
            case .transposeConv2D(let t): terms = t.filter.kernelH * t.filter.kernelW * t.filter.inputChannelsPerGroup
            case .fullyConnected(let f): terms = f.inputCount
            default: continue
            }
            guard terms <= maxAccumulatorTerms else {
                throw ONNXImportError.limitExceeded(
                    node: node.name, what: "the products one int8 accumulator sums (kernel taps × input channels)",
                    value: terms, limit: maxAccumulatorTerms)
            }
        }
    }

    /// The samples at `path` for `graph`'s one input, read one at a time (`SampleStream`).
    public static func openSamples(path: String, for graph: Graph, limit: Int = .max, seed: UInt64? = nil) throws -> SampleStream {
        guard graph.inputs.count == 1 else { throw SampleError.multipleInputs(count: graph.inputs.count) }
        let input = graph.tensors[graph.inputs[0]]
        return try SampleStream(path: path, shape: input.shape, layout: input.sourceLayout, limit: limit, seed: seed)
    }

    public static func loadSamples(path: String, for graph: Graph, limit: Int = .max, seed: UInt64? = nil) throws -> SampleSet {
        guard graph.inputs.count == 1 else { throw SampleError.multipleInputs(count: graph.inputs.count) }
        let input = graph.tensors[graph.inputs[0]]
        return try SampleSet.load(path: path, shape: input.shape, layout: input.sourceLayout, limit: limit, seed: seed)
    }

    public static func run(
        onnxPath: String, calibrationPath: String, outputPath: String, options: QuantizationOptions,
        inputShapes: [String: [Int]] = [:], sampleLimit: Int = .max, sampleSeed: UInt64? = nil,
        memoryPasses: MemoryPassOptions = MemoryPassOptions(),
        progress: ((_ done: Int, _ total: Int, _ stage: String) -> Void)? = nil
    ) throws -> QuantizeResult {
        let graph = try importGraph(onnxPath: onnxPath, inputShapes: inputShapes)
        do { try checkAccumulatorTerms(graph) } catch { throw SourcedError(source: onnxPath, underlying: error) }
        // Samples are read from disk a chunk at a time (twice: calibration, then the check).
        let samples = try openSamples(path: calibrationPath, for: graph, limit: sampleLimit, seed: sampleSeed)
        let (quantized, report, floatOutputs) = try ModelQuantizer.quantizeReporting(
            graph: graph, sampleCount: samples.count, samples: { try samples.samples($0).map { [$0] } },
            options: options, keepOutput: graph.outputs[0],
            progress: { done, total in progress?(done, total, "calibrating") })
        let bytes = try ModelWriter(kernels: options.kernels, memoryPasses: memoryPasses).write(quantized)
        let decisions = MemoryPasses.apply(quantized, options: memoryPasses, kernels: options.kernels).decisions

        // Check what was written: load it in the runtime and compare with float.
        let session = try QuantizedSession(bytes: bytes, source: outputPath)
        let executor = FloatExecutor(graph: graph)
        var accumulator = AgreementAccumulator()
        var others = [AgreementAccumulator](repeating: AgreementAccumulator(), count: graph.outputs.count - 1)
        var classification: ClassificationAgreement?
        let outputIndex = graph.outputs[0]
        let isClassifier = graph.tensors[outputIndex].shape.h * graph.tensors[outputIndex].shape.w == 1 && graph.tensors[outputIndex].shape.c > 1
        if isClassifier { classification = ClassificationAgreement() }
        // Up to `calibrationWorkers` samples at once, each on its own session and thread;
        // the figures added in sample order (the same result as one after another).
        let workers = Swift.max(1, Swift.min(options.calibrationWorkers, samples.count))
        var sessions = [session]
        for _ in 1..<Swift.max(workers, 1) { sessions.append(try QuantizedSession(bytes: bytes, source: outputPath)) }
        var first = 0
        while first < samples.count {
            let count = Swift.min(workers, samples.count - first)
            let batch = try (0..<count).map { try samples.sample(first + $0) }
            let results = ParallelMap.run(count) { k -> (reference: [Float], approximation: [Float], others: [([Float], [Float])]) in
                // The float output calibration computed for this sample (the same bits), or
                // the float graph again when keeping them all would take too much memory;
                // further outputs from the float graph run again.
                let cached = floatOutputs?[first + k]
                let all: [[Float]?] = graph.outputs.count > 1 || cached == nil ? try executor.run(inputs: [batch[k]]) : []
                let reference = cached ?? all[outputIndex] ?? []
                let int8 = sessions[k].run([batch[k]])
                let others = graph.outputs.indices.dropFirst().map { j in (all[graph.outputs[j]] ?? [], int8[j]) }
                return (reference, int8[0], others)
            }
            for (k, r) in results.enumerated() {
                let (reference, approximation, outputs) = try r.get()
                accumulator.add(reference: reference, approximation: approximation)
                for (j, o) in outputs.enumerated() { others[j].add(reference: o.0, approximation: o.1) }
                classification?.add(reference: reference, approximation: approximation, label: nil)
                progress?(first + k + 1, samples.count, "checking int8")
            }
            first += count
        }
        try FileIO.writeAtomically(bytes, to: outputPath)

        let stats = ModelStatistics(quantized)
        var summary = QuantizeSummary(
            model: onnxPath, method: options.method.name, samples: samples.count,
            opsByKind: stats.opsByKind, macs: stats.macs, floatWeightBytes: stats.floatWeightBytes,
            int8WeightBytes: stats.int8WeightBytes, modelFileBytes: bytes.count,
            arenaBytes: session.model.arenaSize, arenaLowerBound: session.model.arenaLowerBound,
            agreement: accumulator.result, classification: classification)
        summary.otherOutputs = others.enumerated().map { j, a in
            NamedAgreement(name: graph.tensors[graph.outputs[j + 1]].name, agreement: a.result)
        }
        summary.naiveLowerBound = NaivePlan.lowerBound(model: session.model)
        summary.calibration = report
        summary.fusedBlocks = decisions.filter(\.fused).count
        summary.fusableBlocks = decisions.count
        return QuantizeResult(summary: summary, model: quantized, bytes: bytes)
    }
}
