import CQuantaHost
import Foundation
import QuantaKernels
import QuantaRuntime

/// Labels that do not fit the evaluation data.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case labelCount(path: String, labels: Int, samples: Int)
    case labelType(path: String, dtype: String)

    public var description: String {
        switch self {
        case .labelCount(let p, let l, let s): return "\(p): \(l) label(s) for \(s) sample(s)"
        case .labelType(let p, let d): return "\(p): labels must be integers, found dtype \(d)"
        }
    }
}

/// `quanta eval`: the float reference and the int8 runtime side by side on every sample,
/// compared at the outputs and at every intermediate tensor the two graphs share by name.
public enum Evaluator {
    /// - Parameters:
    ///   - histogramTensor: the tensor whose float values the report draws; by default the
    ///     layer with the lowest SQNR.
    ///   - workers: samples evaluated at once, each on its own thread and session (default:
    ///     the processors, at most 8); the result is the same for any count.
    ///   - withHistogram: compute `histogram` (the float values of the first 64 samples run
    ///     again); off when nothing shows it.
    ///   - progress: called after each sample.
    public static func evaluate(
        onnxPath: String, modelPath: String, dataPath: String, labelsPath: String? = nil,
        histogramTensor: String? = nil, inputShapes: [String: [Int]] = [:], sampleLimit: Int = .max, sampleSeed: UInt64? = nil,
        workers: Int? = nil, withHistogram: Bool = true, progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> EvaluationResult {
        let graph = try QuantizePipeline.importGraph(onnxPath: onnxPath, inputShapes: inputShapes)
        let session = try QuantizedSession(bytes: try FileIO.read(modelPath), source: modelPath)
        let input = session.interpreter.input(0)
        // Read one sample at a time: memory does not grow with the data.
        let samples = try SampleStream(path: dataPath, shape: input.shape, layout: SourceLayout(input.sourceLayout), limit: sampleLimit, seed: sampleSeed)
        // The label of each sample taken (a seeded subset takes them from anywhere in the set).
        let labels = try labelsPath.map { path in
            let all = try loadLabels(path, count: (samples.indices.max() ?? -1) + 1)
            return samples.indices.map { all[$0] }
        }

        var graphTensorByName: [String: Int] = [:]
        for (i, t) in graph.tensors.enumerated() { graphTensorByName[t.name] = i }
        let model = session.model
        // The int8 op outputs that have a float counterpart of the same size, in execution order.
        var matched: [(op: Int, tensor: Int, graphTensor: Int, name: String, kind: String)] = []
        for i in 0..<model.opCount {
            let op = model.op(i)
            for t in op.outputs {
                let name = model.hasNames ? model.tensorName(t) : ""
                guard let g = graphTensorByName[name], graph.tensors[g].shape.elementCount == model.tensor(t).byteCount else { continue }
                matched.append((i, t, g, name, "\(op.kind)"))
            }
        }
        var layerAccumulators = [AgreementAccumulator](repeating: AgreementAccumulator(), count: matched.count)
        var outputAccumulators = [AgreementAccumulator](repeating: AgreementAccumulator(), count: min(model.outputCount, graph.outputs.count))
        let outputShape = graph.tensors[graph.outputs[0]].shape
        var classification: ClassificationAgreement? =
            outputShape.h * outputShape.w == 1 && outputShape.c > 1 ? ClassificationAgreement() : nil

        let executor = FloatExecutor(graph: graph)
        // Samples run `workers` at a time, each on its own session (interpreter and arena)
        // and thread; their figures are added in sample order, so the result is the one of a
        // serial run.
        let workers = max(1, min(workers ?? Calibrator.defaultWorkers, samples.count))
        let modelBytes = try FileIO.read(modelPath)
        var sessions = [session]
        for _ in 1..<workers { sessions.append(try QuantizedSession(bytes: modelBytes, source: modelPath)) }
        /// One sample's figures: per matched layer the agreement sums of its int8 tensor
        /// (dequantized) against float, computed on the sample's thread; per output the
        /// values (for the classification figures).
        struct SampleFigures {
            var layers: [quanta_agreement_sums?]
            var outputs: [(reference: [Float], approximation: [Float])]
        }
        let matchedLayers = matched, outputCount = outputAccumulators.count
        func figures(_ sample: [Float], on session: QuantizedSession) throws -> SampleFigures {
            let reference = try executor.run(inputs: [sample])
            session.setInput(0, float: sample)
            var layers = [quanta_agreement_sums?](repeating: nil, count: matchedLayers.count)
            var next = 0
            for i in 0..<model.opCount {
                session.interpreter.invoke(ops: i..<(i + 1))
                while next < matchedLayers.count && matchedLayers[next].op == i {
                    if let view = session.interpreter.tensor(matchedLayers[next].tensor), let ref = reference[matchedLayers[next].graphTensor] {
                        precondition(ref.count == view.shape.elementCount, "agreement over tensors of different sizes")
                        let q = view.quantization
                        layers[next] = ref.withUnsafeBufferPointer {
                            quanta_agreement_int8($0.baseAddress, view.data, ref.count, q.scale, q.zeroPoint)
                        }
                    }
                    next += 1
                }
            }
            let outputs = (0..<outputCount).map { k in (reference[graph.outputs[k]] ?? [], session.outputFloat(k)) }
            return SampleFigures(layers: layers, outputs: outputs)
        }
        // Chunks of 16 samples per worker, handed to the threads one sample at a time, each
        // run on a free session of the pool; item 0 of a chunk reads the next chunk meanwhile.
        // The figures are folded in sample order: the result of a serial run.
        let pool = SessionPool(sessions)
        let chunkSize = 16 * workers
        var start = 0
        var next = try samples.samples(0..<min(chunkSize, samples.count))
        while start < samples.count {
            let batch = next, count = batch.count
            let nextRange = (start + count)..<min(start + count + chunkSize, samples.count)
            let items = ParallelMap.run(count + 1) { k -> (figures: SampleFigures?, loaded: [[Float]]?) in
                if k == 0 { return (nil, nextRange.isEmpty ? [] : try samples.samples(nextRange)) }
                let session = pool.take()
                defer { pool.give(session) }
                return (try figures(batch[k - 1], on: session), nil)
            }
            next = try items[0].get().loaded ?? []
            let results = items.dropFirst().map { item in item.map { $0.figures! } }
            for (k, r) in results.enumerated() {
                let f = try r.get()
                for (j, sums) in f.layers.enumerated() {
                    if let sums { layerAccumulators[j].add(sums: sums) }
                }
                for (o, pair) in f.outputs.enumerated() {
                    outputAccumulators[o].add(reference: pair.reference, approximation: pair.approximation)
                    if o == 0 { classification?.add(reference: pair.reference, approximation: pair.approximation, label: labels?[start + k]) }
                }
                progress?(start + k + 1, samples.count)
            }
            start += count
        }

        let layers = matched.enumerated().map { j, m in
            LayerAgreement(tensor: m.name, op: m.kind, agreement: layerAccumulators[j].result,
                           scale: model.tensor(m.tensor).quantization.scale, meanAbsError: layerAccumulators[j].meanAbsError,
                           clippingShare: layerAccumulators[j].clippingShare)
        }
        var result = EvaluationResult(
            model: onnxPath, samples: samples.count, outputs: outputAccumulators.map(\.result),
            classification: classification, layers: layers)
        result.inputNote = QuantizedSession.inputClippingNote(sessions)
        let chosen = histogramTensor ?? layers.min(by: { $0.agreement.sqnr < $1.agreement.sqnr })?.tensor
        if withHistogram, let name = chosen, let m = matched.first(where: { $0.name == name }) {
            // The float values of the first 64 samples, computed on every worker, kept in order.
            let first = try samples.samples(0..<min(64, samples.count))
            let perSample = ParallelMap.run(first.count) { k in try executor.run(inputs: [first[k]])[m.graphTensor] ?? [] }
            var values: [Float] = []
            for r in perSample { values += try r.get() }
            let q = model.tensor(m.tensor).quantization
            result.histogram = TensorHistogram.make(
                tensor: name, values: values, binCount: 100,
                gridMinimum: q.scale * Float(-128 - q.zeroPoint), gridMaximum: q.scale * Float(127 - q.zeroPoint))
        }
        return result
    }

    static func dequantize(_ view: TensorView) -> [Float] {
        let q = view.quantization
        return UnsafeBufferPointer(start: view.data, count: view.shape.elementCount).map { Quantizer.dequantize($0, q) }
    }

    static func loadLabels(_ path: String, count: Int) throws -> [Int] {
        let array = try NumPy.read(path)
        switch array.elements {
        case .int64(let v): return try checked(v.map { Int($0) }, path, count)
        case .int32(let v): return try checked(v.map { Int($0) }, path, count)
        case .uint8(let v): return try checked(v.map { Int($0) }, path, count)
        case .int8(let v): return try checked(v.map { Int($0) }, path, count)
        default: throw EvaluationError.labelType(path: path, dtype: array.dtype.rawValue)
        }
    }

    private static func checked(_ labels: [Int], _ path: String, _ count: Int) throws -> [Int] {
        guard labels.count >= count else { throw EvaluationError.labelCount(path: path, labels: labels.count, samples: count) }
        return Array(labels.prefix(count))
    }
}

/// The evaluation's sessions, each used by one thread at a time: `take` waits for a free one.
private final class SessionPool: @unchecked Sendable {
    private var free: [QuantizedSession]
    private let condition = NSCondition()

    init(_ sessions: [QuantizedSession]) { free = sessions }

    func take() -> QuantizedSession {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeLast()
    }

    func give(_ session: QuantizedSession) {
        condition.lock()
        free.append(session)
        condition.signal()
        condition.unlock()
    }
}
