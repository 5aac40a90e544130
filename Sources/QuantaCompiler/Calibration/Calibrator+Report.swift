/// What calibration saw beyond the ranges it chose: per tensor the share of observed values
/// outside the chosen range (they saturate in int8), and samples whose values set a range
/// far beyond the other samples' (one corrupt or out-of-domain sample in the calibration
/// set stretches a range until every normal value rounds to a few levels).
public struct CalibrationReport: Codable, Equatable, Sendable {
    /// One activation tensor's clipping.
    public struct Clipping: Codable, Equatable, Sendable {
        public var tensor: String
        /// Share of the calibration values outside the chosen range (0...1).
        public var share: Double
    }

    /// One sample that sets a tensor's range: its largest |value| against the largest of
    /// every other sample.
    public struct Outlier: Codable, Equatable, Sendable {
        public var sample: Int
        public var tensor: String
        public var magnitude: Float
        public var others: Float
        /// How many tensors this sample sets so (the first in graph order is `tensor`).
        public var tensors: Int
    }

    /// Tensors whose clipping is above `Self.clippingThreshold`, most first.
    public var clipping: [Clipping] = []
    /// Samples that set at least one tensor's range `Self.outlierFactor` times beyond every
    /// other sample's (at most one entry per sample).
    public var outliers: [Outlier] = []

    /// Clipping reported above this share (0.1 %).
    public static let clippingThreshold = 0.001
    /// A sample is an outlier for a tensor when its largest |value| is more than this many
    /// times every other sample's largest (needs 3 samples or more).
    public static let outlierFactor: Float = 10

    public init(clipping: [Clipping] = [], outliers: [Outlier] = []) {
        self.clipping = clipping
        self.outliers = outliers
    }

    /// Lines for `quanta quantize`'s summary (empty when there is nothing to say about
    /// outliers; one line on clipping).
    public func lines() -> [String] {
        var out: [String] = []
        if clipping.isEmpty {
            out.append("clipping   no tensor above " + formatPercent(Self.clippingThreshold) + " of its calibration values")
        } else {
            let top = clipping.prefix(3).map { "'\($0.tensor)' " + formatPercent($0.share) }.joined(separator: ", ")
            out.append("clipping   \(clipping.count) tensor(s) above " + formatPercent(Self.clippingThreshold) + " of their calibration values saturate: \(top)")
        }
        for o in outliers.prefix(5) {
            out.append("warning    calibration sample \(o.sample) sets the range of \(o.tensors) tensor(s) far beyond the other samples ('\(o.tensor)': max |value| "
                       + String(format: "%.4g", Double(o.magnitude)) + ", the others at most " + String(format: "%.4g", Double(o.others))
                       + "): check that sample or leave it out")
        }
        if outliers.count > 5 { out.append("warning    \(outliers.count - 5) more sample(s) like these") }
        return out
    }
}

func formatPercent(_ share: Double) -> String {
    let p = 100 * share
    return p >= 10 ? String(format: "%.0f %%", p) : p >= 0.1 ? String(format: "%.1f %%", p) : String(format: "%.2g %%", p)
}

extension Calibrator {
    /// The clipping of `ranges` (as `ranges(_:)` returns them) on the observed values, and
    /// the outlier samples. Deterministic, like the ranges.
    public func report(ranges: [ClosedRange<Float>?]) -> CalibrationReport {
        var report = CalibrationReport()
        for (i, s) in statistics.enumerated() {
            guard let s, i < ranges.count, let r = ranges[i], s.count > 0 else { continue }
            let share = s.share(outside: r)
            if share > CalibrationReport.clippingThreshold {
                report.clipping.append(.init(tensor: graph.tensors[i].name, share: share))
            }
        }
        report.clipping.sort { $0.share > $1.share || ($0.share == $1.share && $0.tensor < $1.tensor) }
        guard sampleCount >= 3 else { return report }
        var bySample: [Int: CalibrationReport.Outlier] = [:]
        for (i, magnitudes) in sampleMagnitudes.enumerated() where magnitudes.count == sampleCount {
            // The largest and the second largest sample.
            var top = 0
            for k in magnitudes.indices where magnitudes[k] > magnitudes[top] { top = k }
            var others: Float = 0
            for k in magnitudes.indices where k != top { others = Swift.max(others, magnitudes[k]) }
            guard magnitudes[top] > CalibrationReport.outlierFactor * Swift.max(others, Float.leastNormalMagnitude) else { continue }
            if var o = bySample[top] {
                o.tensors += 1
                bySample[top] = o
            } else {
                bySample[top] = .init(sample: top, tensor: graph.tensors[i].name, magnitude: magnitudes[top], others: others, tensors: 1)
            }
        }
        report.outliers = bySample.values.sorted { $0.tensors > $1.tensors || ($0.tensors == $1.tensors && $0.sample < $1.sample) }
        return report
    }
}
