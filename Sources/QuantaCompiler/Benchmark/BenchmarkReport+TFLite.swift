import Foundation

/// The process's peak resident set, for the benchmark's memory line.
enum ProcessMemory {
    /// `getrusage(RUSAGE_SELF).ru_maxrss` in bytes (Linux reports KiB), 0 if unavailable.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
    }
}

/// One TFLite `Stat` line: `count= first= curr= min= max= avg= std=` over microseconds,
/// the integer fields rounded, `avg` with up to 6 significant digits, `std` the population
/// standard deviation rounded (as `tflite::benchmark::Stat` prints them).
func tfliteStatLine(_ values: [Double]) -> String {
    guard let first = values.first, let last = values.last else { return "count=0" }
    let avg = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - avg) * ($1 - avg) } / Double(values.count)
    func int(_ v: Double) -> String { String(Int64(v.rounded())) }
    return "count=\(values.count) first=\(int(first)) curr=\(int(last)) min=\(int(values.min()!)) max=\(int(values.max()!)) "
        + "avg=\(String(format: "%g", avg)) std=\(int(variance.squareRoot()))"
}

extension BenchmarkReport {
    /// The report as TFLite's `benchmark_model` prints it, so that figures can be set side
    /// by side with published ones: the warm-up and timed `count= first= curr= min= max= avg=
    /// std=` lines (microseconds, wall time), the `Inference timings in us` line, the
    /// per-op-type summary (`[Node type] [count] [avg ms] [avg %] [cdf %] [mem KB] [times
    /// called]`, ours by op kind and variant; `mem KB` is 0: the arena is planned, not
    /// allocated per op) and the memory lines (the arena and the model file Quanta needs;
    /// the process's peak resident set). nil fields of older reports print as 0.
    public func tfliteText() -> String {
        let runs = self.runs
        var lines: [String] = []
        lines.append("STARTING!")
        lines.append("Graph: [\(model)]")
        lines.append("Input: [\(input)]")
        lines.append(String(format: "The input model file size (MB): %g", Double(fileBytes) / 1e6))
        lines.append(String(format: "Initialized session in %gms.", (runs?.initMicros ?? 0) / 1000))
        let warmup = runs?.warmupMicros ?? []
        let invokes = runs?.invokeMicros ?? []
        lines.append("Running benchmark for at least \(warmup.count) iterations and at least 0 seconds but terminate if exceeding 150 seconds.")
        lines.append(tfliteStatLine(warmup))
        lines.append("")
        lines.append("Running benchmark for at least \(invokes.count) iterations and at least 0 seconds but terminate if exceeding 150 seconds.")
        lines.append(tfliteStatLine(invokes))
        lines.append("")
        let avg: ([Double]) -> Double = { $0.isEmpty ? 0 : $0.reduce(0, +) / Double($0.count) }
        lines.append("Inference timings in us: Init: \(Int64((runs?.initMicros ?? 0).rounded())), First inference: \(Int64((warmup.first ?? invokes.first ?? 0).rounded())), "
                     + "Warmup (avg): \(String(format: "%g", avg(warmup))), Inference (avg): \(String(format: "%g", avg(invokes)))")
        lines.append("Quanta memory (MB): model file=\(String(format: "%g", Double(fileBytes) / 1e6)) arena=\(String(format: "%g", Double(arenaBytes) / 1e6)) (all the runtime needs: nothing is allocated after load)")
        lines.append("Overall peak memory footprint (MB) via periodic monitoring: \(String(format: "%g", Double(runs?.peakResidentBytes ?? 0) / 1e6)) (the whole quanta process)")
        lines.append("")
        lines.append("============================== Summary by node type ==============================")
        lines.append("\t                     [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]")
        let means = runs?.kindMeanMs ?? kinds.map(\.medianMs)
        let total = means.reduce(0, +)
        var order = Array(kinds.indices)
        order.sort { means[$0] > means[$1] || (means[$0] == means[$1] && kinds[$0].kind < kinds[$1].kind) }
        var cdf = 0.0
        for k in order {
            let share = total > 0 ? means[k] / total : 0
            cdf += share
            let name = kinds[k].kind
            lines.append("\t" + String(repeating: " ", count: max(0, 32 - name.count)) + name
                         + "\t" + String(format: "%9d\t%10.3f\t%10.3f%%\t%10.3f%%\t%10.3f\t%9d", kinds[k].count, means[k], 100 * share, 100 * cdf, 0.0, kinds[k].count))
        }
        lines.append("")
        lines.append("Timings (microseconds): count=\(invokes.count) curr=\(Int64((invokes.last ?? 0).rounded()))")
        return lines.joined(separator: "\n")
    }
}
