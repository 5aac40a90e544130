import Foundation

/// Runs the float graph on calibration samples and keeps `TensorStatistics` for every
/// activation tensor (graph inputs and node outputs; constants have none).
///
/// Deterministic: the statistics, and so the ranges, depend only on the graph, the
/// samples and their order.
public struct Calibrator {
    public let graph: Graph
    /// `statistics[i]` for tensor `i`; nil for constants and tensors never computed.
    public private(set) var statistics: [TensorStatistics?]
    /// Samples observed so far.
    public private(set) var sampleCount = 0
    /// `sampleMagnitudes[i][k]`: the largest finite |value| of tensor `i` in sample `k`
    /// (empty for tensors without statistics), for `report(ranges:)`'s outlier samples.
    public private(set) var sampleMagnitudes: [[Float]]
    private let executor: FloatExecutor

    /// - Parameter histogramBins: bins per tensor histogram (even, at least 256).
    public init(graph: Graph, histogramBins: Int = TensorStatistics.defaultBinCount) throws {
        guard histogramBins >= 256 && histogramBins % 2 == 0 else { throw QuantizationError.invalidHistogramBins(histogramBins) }
        try graph.validate()
        self.graph = graph
        self.executor = FloatExecutor(graph: graph)
        var isActivation = [Bool](repeating: false, count: graph.tensors.count)
        for i in graph.inputs { isActivation[i] = true }
        for node in graph.nodes { for o in node.outputs { isActivation[o] = true } }
        statistics = isActivation.enumerated().map { i, active in
            active && graph.tensors[i].data == nil ? TensorStatistics(binCount: histogramBins) : nil
        }
        sampleMagnitudes = [[Float]](repeating: [], count: graph.tensors.count)
    }

    /// Runs the float graph on one sample (`sample[i]`: NHWC data of graph input `i`) and
    /// adds every activation tensor's values to its statistics. `index` names the sample
    /// in errors.
    public mutating func observe(sample: [[Float]], index: Int = 0) throws {
        record(try activations(sample: sample, index: index))
    }

    /// Observes `samples` (the first is sample `firstIndex`) with the float passes of up to
    /// `workers` samples running at once on their own threads; the statistics are recorded
    /// in sample order, so the result is the same as `observe` one sample after another.
    /// At most `workers` samples' activations are in memory at a time. `progress` is called
    /// after each recorded sample with the count so far.
    public mutating func observe(
        samples: [[[Float]]], firstIndex: Int = 0, workers: Int = Calibrator.defaultWorkers,
        progress: ((_ done: Int) -> Void)? = nil
    ) throws {
        let workers = Swift.max(1, workers)
        var start = 0
        while start < samples.count {
            let count = Swift.min(workers, samples.count - start)
            let me = self
            let results = ParallelMap.run(count) { k in try me.activations(sample: samples[start + k], index: firstIndex + start + k) }
            let batch = try results.map { try $0.get() }
            record(batch: batch, workers: workers)
            for k in 0..<count { progress?(start + k + 1) }
            start += count
        }
    }

    /// Threads for `observe(samples:)`: the processors this process may use, at most 8.
    public static var defaultWorkers: Int { Swift.min(8, Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    /// The float pass of one sample: every tensor's values (checks the sample's inputs).
    /// Reads only the graph and the executor: safe to call from several threads.
    func activations(sample: [[Float]], index: Int) throws -> [[Float]?] {
        guard sample.count == graph.inputs.count else {
            throw QuantizationError.sampleInputCount(sample: index, expected: graph.inputs.count, actual: sample.count)
        }
        for (k, t) in graph.inputs.enumerated() where sample[k].count != graph.tensors[t].shape.elementCount {
            throw QuantizationError.sampleSize(
                sample: index, input: graph.tensors[t].name, expected: graph.tensors[t].shape.elementCount, actual: sample[k].count)
        }
        return try executor.run(inputs: sample)
    }

    /// When set (`keepOutput(_:limit:)`), the float values of this tensor for every sample
    /// observed, in sample order: the int8 check after calibration compares against them
    /// instead of running the float graph again.
    public private(set) var keptOutputs: [[Float]]?
    private var keptTensor = -1

    /// Keeps tensor `tensor`'s float values of every sample from now on, if
    /// `samples` × its element count is at most `limit` floats (else keeps none).
    public mutating func keepOutput(_ tensor: Int, samples: Int, limit: Int = 1 << 24) {
        guard tensor >= 0, tensor < graph.tensors.count,
              graph.tensors[tensor].shape.elementCount.multipliedReportingOverflow(by: samples).partialValue <= limit
        else { return }
        keptTensor = tensor
        keptOutputs = []
    }

    /// Adds one sample's activations to the statistics.
    private mutating func record(_ values: [[Float]?]) {
        record(batch: [values], workers: 1)
    }

    /// Adds the activations of consecutive samples to the statistics, each tensor's in
    /// sample order: with `workers` > 1 the tensors are shared among that many threads
    /// (tensor `i` by thread `i mod workers`, every sample of it), which gives the same
    /// statistics as one sample after another.
    private mutating func record(batch: [[[Float]?]], workers: Int) {
        if keptTensor >= 0 { for values in batch { keptOutputs?.append(values[keptTensor] ?? []) } }
        let tensors = statistics.indices.filter { statistics[$0] != nil }
        func recordTensor(_ i: Int, _ stats: UnsafeMutablePointer<TensorStatistics?>, _ magnitudes: UnsafeMutablePointer<[Float]>) {
            for values in batch {
                guard let v = values[i] else { continue }
                magnitudes[i].append(stats[i]!.observe(v))
            }
        }
        statistics.withUnsafeMutableBufferPointer { stats in
            sampleMagnitudes.withUnsafeMutableBufferPointer { magnitudes in
                let stats = stats.baseAddress!, magnitudes = magnitudes.baseAddress!
                let threads = Swift.min(workers, tensors.count)
                if threads <= 1 {
                    for i in tensors { recordTensor(i, stats, magnitudes) }
                } else {
                    // Each thread touches only its own tensors' entries.
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        var j = t
                        while j < tensors.count {
                            recordTensor(tensors[j], stats, magnitudes)
                            j += threads
                        }
                    }
                }
            }
        }
        sampleCount += batch.count
    }

    /// Each tensor's range by `method` (nil where there are no statistics). Any NaN or
    /// infinity seen in an activation is `QuantizationError.nonFiniteActivation`.
    public func ranges(_ method: CalibrationMethod) throws -> [ClosedRange<Float>?] {
        if case .percentile(let p) = method, !(p > 0 && p <= 100) { throw QuantizationError.invalidPercentile(p) }
        return try statistics.enumerated().map { i, s in
            guard let s, s.count + s.nonFiniteCount > 0 else { return nil }
            if s.nonFiniteCount > 0 {
                throw QuantizationError.nonFiniteActivation(tensor: graph.tensors[i].name, count: s.nonFiniteCount)
            }
            return s.range(method)
        }
    }
}
