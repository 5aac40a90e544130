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
            var results = [Result<[[Float]?], Error>?](repeating: nil, count: count)
            if count == 1 {
                results[0] = Result { try activations(sample: samples[start], index: firstIndex + start) }
            } else {
                let me = self
                results.withUnsafeMutableBufferPointer { slots in
                    let slots = slots  // each thread writes only its own slot
                    DispatchQueue.concurrentPerform(iterations: count) { k in
                        slots[k] = Result { try me.activations(sample: samples[start + k], index: firstIndex + start + k) }
                    }
                }
            }
            for (k, r) in results.enumerated() {
                record(try r!.get())
                progress?(start + k + 1)
            }
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
        if keptTensor >= 0 { keptOutputs?.append(values[keptTensor] ?? []) }
        for i in statistics.indices where statistics[i] != nil {
            guard let v = values[i] else { continue }
            statistics[i]!.observe(v)
            var m: Float = 0
            for x in v where x.isFinite { m = Swift.max(m, Swift.abs(x)) }
            sampleMagnitudes[i].append(m)
        }
        sampleCount += 1
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
