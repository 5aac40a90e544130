import Foundation

/// What `quanta bench` measures of one `.qmodel`: latency of whole invokes and of every op,
/// multiply-accumulate throughput per op kind, memory, and (optionally) the same model on
/// the float reference kernels.
///
/// Every time is in milliseconds. `ops` has one row per op of the plan, in plan order;
/// `kinds` one row per op kind (`conv2D.pointwise`, `add`, …) in order of first appearance.
/// Throughput (`gmacPerSecond`) is absent for ops without multiply-accumulates and for
/// times too short to measure. `float` is absent when no float model was benchmarked.
public struct BenchmarkReport: Codable, Equatable {
    public struct Op: Codable, Equatable {
        public var index: Int
        public var name: String
        /// Op kind and, for convolutions, the kernel variant: `conv2D.depthwise3x3`.
        public var kind: String
        public var kernel: String
        public var macs: Int
        public var latency: LatencyStatistics
        public var gmacPerSecond: Double?
    }

    public struct Kind: Codable, Equatable {
        public var kind: String
        public var count: Int
        public var macs: Int
        /// Sum of the median latencies of the ops of this kind.
        public var medianMs: Double
        /// `medianMs` over the sum of all per-op medians.
        public var share: Double
        public var gmacPerSecond: Double?
    }

    public struct FloatRun: Codable, Equatable {
        public var model: String
        /// Wall time of whole runs.
        public var latency: LatencyStatistics
        /// CPU time of the running thread.
        public var cpu: LatencyStatistics
        /// int8 CPU-time median over float CPU-time median (below 1: int8 is faster).
        public var int8OverFloat: Double
    }

    public var model: String
    /// `random int8 (seed S)` or the path of the `.npy` the inputs came from.
    public var input: String
    public var iterations: Int
    public var warmup: Int
    public var opCount: Int
    public var macs: Int
    public var fileBytes: Int
    public var arenaBytes: Int
    public var arenaLowerBound: Int
    /// Whole invokes.
    public var total: BenchmarkLatency
    /// Sum of the per-op medians (close to `total.latency.medianMs`; it also counts the
    /// timer calls between ops).
    public var perOpMedianSumMs: Double
    public var ops: [Op]
    public var kinds: [Kind]
    public var float: FloatRun?
    /// Every timed figure as it was (for `tfliteText()`); nil in reports of older versions.
    public var runs: Runs?

    /// The raw timings, in microseconds.
    public struct Runs: Codable, Equatable {
        /// Loading and validating the model and binding the arena.
        public var initMicros: Double
        /// Each warm-up invoke, in order (the first is the first inference).
        public var warmupMicros: [Double]
        /// Each timed whole invoke (wall time), in order.
        public var invokeMicros: [Double]
        /// Per entry of `kinds`, the sum of its ops' mean latencies (ms).
        public var kindMeanMs: [Double]
        /// The process's peak resident memory when the benchmark ended (getrusage), or 0.
        public var peakResidentBytes: Int
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The human-readable report: per-op table, per-kind table, totals.
    public func table() -> String {
        func ms(_ v: Double) -> String { String(format: "%.3f", v) }
        func rate(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
        func pct(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }
        let nameWidth = min(36, max(4, ops.map(\.name.count).max() ?? 4))
        let kindWidth = max(4, (ops.map(\.kind.count) + kinds.map(\.kind.count)).max() ?? 4)
        var lines: [String] = []
        lines.append("model  \(model): \(opCount) ops, \(macs) MACs, arena \(arenaBytes) B (lower bound \(arenaLowerBound) B), file \(fileBytes) B")
        lines.append("input  \(input); \(iterations) iterations after \(warmup) warm-up")
        lines.append("")
        lines.append(pad("#", 4, left: true) + "  " + pad("name", nameWidth) + "  " + pad("kind", kindWidth)
            + pad("MACs", 12, left: true) + pad("median ms", 11, left: true) + pad("min ms", 10, left: true)
            + pad("max ms", 10, left: true) + pad("GMAC/s", 9, left: true))
        for op in ops {
            let name = op.name.count > nameWidth ? "…" + op.name.suffix(nameWidth - 1) : Substring(op.name)
            lines.append(pad(String(op.index), 4, left: true) + "  " + pad(String(name), nameWidth) + "  " + pad(op.kind, kindWidth)
                + pad(String(op.macs), 12, left: true) + pad(ms(op.latency.medianMs), 11, left: true)
                + pad(ms(op.latency.minMs), 10, left: true) + pad(ms(op.latency.maxMs), 10, left: true)
                + pad(rate(op.gmacPerSecond), 9, left: true))
        }
        lines.append("")
        lines.append(pad("by kind", kindWidth) + pad("ops", 6, left: true) + pad("MACs", 12, left: true)
            + pad("median ms", 11, left: true) + pad("share", 8, left: true) + pad("GMAC/s", 9, left: true))
        for k in kinds {
            lines.append(pad(k.kind, kindWidth) + pad(String(k.count), 6, left: true) + pad(String(k.macs), 12, left: true)
                + pad(ms(k.medianMs), 11, left: true) + pad(pct(k.share), 8, left: true) + pad(rate(k.gmacPerSecond), 9, left: true))
        }
        lines.append("")
        let t = total.latency
        let c = total.cpu
        lines.append("int8 invoke: median \(ms(t.medianMs)) ms, min \(ms(t.minMs)), max \(ms(t.maxMs)) (spread \(pct(t.spread))) wall")
        lines.append("             median \(ms(c.medianMs)) ms, min \(ms(c.minMs)), max \(ms(c.maxMs)) CPU time, \(rate(total.gmacPerSecond)) GMAC/s")
        lines.append("sum of per-op medians: \(ms(perOpMedianSumMs)) ms")
        if let f = float {
            let l = f.latency
            lines.append("float reference (\(f.model)): median \(ms(l.medianMs)) ms, min \(ms(l.minMs)), max \(ms(l.maxMs)) wall, median \(ms(f.cpu.medianMs)) ms CPU time over \(l.samples) runs")
            let faster = f.int8OverFloat <= 1
                ? String(format: "int8 %.2f× faster", f.int8OverFloat > 0 ? 1 / f.int8OverFloat : 0)
                : String(format: "float %.2f× faster", f.int8OverFloat)
            lines.append(String(format: "int8 / float CPU time: %.3f (", f.int8OverFloat) + faster + ")")
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        if s.count >= n { return left ? " " + s : s + " " }
        let fill = String(repeating: " ", count: n - s.count)
        return left ? fill + s : s + fill
    }
}

/// Latency of whole invokes and the throughput it gives over the model's MACs.
public struct BenchmarkLatency: Codable, Equatable {
    /// Wall time.
    public var latency: LatencyStatistics
    /// CPU time of the invoking thread (excludes preemption: the steadier figure on a
    /// loaded machine).
    public var cpu: LatencyStatistics
    /// MACs over the CPU-time median.
    public var gmacPerSecond: Double?
}

/// Giga multiply-accumulates per second, nil without MACs or without measurable time.
func gmacPerSecond(macs: Int, ms: Double) -> Double? {
    guard macs > 0, ms > 0 else { return nil }
    return Double(macs) / (ms * 1e6)
}
