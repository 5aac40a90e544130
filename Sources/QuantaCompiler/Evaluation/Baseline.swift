/// How much worse than the baseline a figure may get before `quanta eval --baseline`
/// calls it a regression. Improvements never fail.
public struct BaselineTolerances: Equatable {
    /// Output SQNR may drop by this many dB.
    public var outputSQNRDrop: Double = 1.0
    /// Output cosine similarity may drop by this much.
    public var outputCosineDrop: Double = 0.002
    /// Top-1 agreement (int8 vs float) and int8 accuracy may drop by this many percentage points.
    public var top1Drop: Double = 1.0
    /// Each layer's SQNR may drop by this many dB.
    public var layerSQNRDrop: Double = 3.0

    public init() {}
}

/// One figure that got worse than the baseline allows.
public struct Regression: Equatable, CustomStringConvertible {
    public var figure: String
    public var baseline: Double
    public var current: Double
    public var allowedDrop: Double

    public var description: String {
        "\(figure): \(format(current)) vs baseline \(format(baseline)) (allowed drop \(format(allowedDrop)))"
    }

    private func format(_ v: Double) -> String {
        v.isInfinite ? (v > 0 ? "inf" : "-inf") : String((v * 1e4).rounded() / 1e4)
    }
}

/// Differences in what was measured that make a comparison meaningless.
public enum BaselineError: Error, Equatable, CustomStringConvertible {
    case differentOutputs(baseline: Int, current: Int)
    case differentSamples(baseline: Int, current: Int)

    public var description: String {
        switch self {
        case .differentOutputs(let b, let c): return "baseline has \(b) output(s), the model has \(c)"
        case .differentSamples(let b, let c): return "baseline was measured on \(b) sample(s), this run used \(c); use the same data"
        }
    }
}

extension EvaluationResult {
    /// Figures worse than `baseline` by more than `tolerances` allow, in a stable order
    /// (outputs, classifier, then layers in execution order). Layers missing from either
    /// side are ignored (a changed graph is compared on what both have).
    public func regressions(against baseline: EvaluationResult, tolerances: BaselineTolerances = BaselineTolerances()) throws -> [Regression] {
        guard baseline.outputs.count == outputs.count else {
            throw BaselineError.differentOutputs(baseline: baseline.outputs.count, current: outputs.count)
        }
        guard baseline.samples == samples else {
            throw BaselineError.differentSamples(baseline: baseline.samples, current: samples)
        }
        var found: [Regression] = []
        func check(_ name: String, _ b: Double, _ c: Double, _ allowed: Double) {
            // SQNR is +inf for exact results; cap at 200 dB so that losing exactness is a drop.
            let b = min(b, 200), c = min(c, 200)
            if c < b - allowed { found.append(Regression(figure: name, baseline: b, current: c, allowedDrop: allowed)) }
        }
        for (i, (b, c)) in zip(baseline.outputs, outputs).enumerated() {
            check("output \(i) SQNR dB", b.sqnr, c.sqnr, tolerances.outputSQNRDrop)
            check("output \(i) cosine", b.cosine, c.cosine, tolerances.outputCosineDrop)
        }
        if let b = baseline.classification, let c = classification {
            check("top-1 agreement %", 100 * b.agreementRate, 100 * c.agreementRate, tolerances.top1Drop)
            if let bq = b.int8Correct, let cq = c.int8Correct, b.samples > 0, c.samples > 0 {
                check("int8 top-1 accuracy %", 100 * Double(bq) / Double(b.samples), 100 * Double(cq) / Double(c.samples), tolerances.top1Drop)
            }
        }
        var baselineLayers: [String: LayerAgreement] = [:]
        for l in baseline.layers { baselineLayers[l.tensor] = l }
        for l in layers {
            guard let b = baselineLayers[l.tensor] else { continue }
            check("layer \(l.tensor) SQNR dB", b.agreement.sqnr, l.agreement.sqnr, tolerances.layerSQNRDrop)
        }
        return found
    }
}
