import Foundation

/// Agreement of one intermediate tensor: the int8 runtime's value (dequantized) against the
/// float reference's value at the same point of the graph, over all samples.
public struct LayerAgreement: Equatable, Codable {
    /// The tensor's name (the output of the op that produced it).
    public var tensor: String
    /// The producing op's kind, e.g. "conv2D".
    public var op: String
    public var agreement: Agreement
    /// The int8 tensor's scale (one step of its grid), Σ|error| / elements, and the share of
    /// float values beyond the grid by more than half a step (saturated). Optional: older
    /// baselines do not carry them.
    public var scale: Float?
    public var meanAbsError: Double?
    public var clippingShare: Double?

    public init(tensor: String, op: String, agreement: Agreement, scale: Float? = nil, meanAbsError: Double? = nil,
                clippingShare: Double? = nil) {
        self.tensor = tensor
        self.op = op
        self.agreement = agreement
        self.scale = scale
        self.meanAbsError = meanAbsError
        self.clippingShare = clippingShare
    }
}

/// A histogram of one tensor's float values with the range the int8 grid covers.
public struct TensorHistogram: Equatable, Codable {
    public var tensor: String
    public var minimum: Float
    public var maximum: Float
    /// Counts of `bins.count` equal-width bins over `minimum...maximum`.
    public var bins: [Int]
    /// The real range int8 can represent: `scale * (-128 - zp) ... scale * (127 - zp)`.
    public var gridMinimum: Float
    public var gridMaximum: Float

    public init(tensor: String, minimum: Float, maximum: Float, bins: [Int], gridMinimum: Float, gridMaximum: Float) {
        self.tensor = tensor
        self.minimum = minimum
        self.maximum = maximum
        self.bins = bins
        self.gridMinimum = gridMinimum
        self.gridMaximum = gridMaximum
    }

    /// Builds a histogram of `values` with `binCount` bins.
    public static func make(tensor: String, values: [Float], binCount: Int, gridMinimum: Float, gridMaximum: Float) -> TensorHistogram {
        let lo = min(values.min() ?? 0, gridMinimum), hi = max(values.max() ?? 0, gridMaximum)
        var bins = [Int](repeating: 0, count: max(1, binCount))
        let width = (hi - lo) / Float(bins.count)
        for v in values {
            let i = width > 0 ? Int((v - lo) / width) : 0
            bins[min(max(i, 0), bins.count - 1)] += 1
        }
        return TensorHistogram(tensor: tensor, minimum: lo, maximum: hi, bins: bins, gridMinimum: gridMinimum, gridMaximum: gridMaximum)
    }
}

/// Everything `quanta eval` measures for one model.
public struct EvaluationResult: Equatable, Codable {
    public var model: String
    public var samples: Int
    /// One per model output, in order.
    public var outputs: [Agreement]
    /// For classifiers (one output with more than one class).
    public var classification: ClassificationAgreement?
    /// Every intermediate tensor, in execution order.
    public var layers: [LayerAgreement]
    public var histogram: TensorHistogram?
    /// `QuantizedSession.inputClippingNote()` of the evaluation (nil when at most 1 % of the
    /// input values were clipped by the input quantization); not part of baseline checks.
    public var inputNote: String?

    public init(model: String, samples: Int, outputs: [Agreement], classification: ClassificationAgreement?, layers: [LayerAgreement], histogram: TensorHistogram? = nil) {
        self.model = model
        self.samples = samples
        self.outputs = outputs
        self.classification = classification
        self.layers = layers
        self.histogram = histogram
    }

    /// JSON with stable key order; infinite SQNR (identical tensors) is written as "inf".
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// - Throws: `EvaluationResultError.notABaseline` (one line, no decoder internals) when
    ///   the bytes are not JSON or not an evaluation result.
    public static func decode(json: [UInt8]) throws -> EvaluationResult {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(EvaluationResult.self, from: Data(json))
        } catch DecodingError.keyNotFound(let key, _) {
            throw EvaluationResultError.notABaseline("no '\(key.stringValue)' field")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw EvaluationResultError.notABaseline("field '\(path)' has the wrong type")
        } catch {
            throw EvaluationResultError.notABaseline("not JSON")
        }
    }

    /// Per layer, one CSV row (RFC 4180 quoting) in the spirit of TFLite's quantization
    /// debugger: `tensor, op, elements, sqnr_db, cosine, mean_abs_error, max_abs_error,
    /// scale, mean_error_steps, max_error_steps, clipping_share` — the errors also in steps
    /// of the tensor's int8 grid (error / scale: 0.5 is what rounding alone costs at most),
    /// and the share of float values the grid saturates. Empty fields where a figure is
    /// unknown (a baseline written before these columns).
    public func csv() -> String {
        func quoted(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func number(_ v: Double?) -> String {
            guard let v else { return "" }
            return v.isInfinite ? (v > 0 ? "inf" : "-inf") : String(format: "%.9g", v)
        }
        var rows = ["tensor,op,elements,sqnr_db,cosine,mean_abs_error,max_abs_error,scale,mean_error_steps,max_error_steps,clipping_share"]
        for l in layers {
            let a = l.agreement, scale = l.scale.map(Double.init)
            let meanSteps = l.meanAbsError.flatMap { m in scale.flatMap { $0 > 0 ? m / $0 : nil } }
            let maxSteps = scale.flatMap { $0 > 0 ? a.maxAbsError / $0 : nil }
            rows.append([quoted(l.tensor), quoted(l.op), String(a.elementCount), number(a.sqnr), number(a.cosine), number(l.meanAbsError),
                         number(a.maxAbsError), number(scale), number(meanSteps), number(maxSteps), number(l.clippingShare)]
                .joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// A table for people: the outputs, the classifier figures, then every layer.
    public func table() -> String {
        var lines: [String] = []
        lines.append("model \(model), \(samples) sample(s)")
        for (i, o) in outputs.enumerated() {
            lines.append("output \(i): SQNR \(formatSQNR(o.sqnr)) dB, " + String(format: "cosine %.6f, max |error| %.6g", o.cosine, o.maxAbsError))
        }
        if let c = classification {
            var line = String(format: "top-1 agreement int8 vs float: %.2f%% (%d/%d)", 100 * c.agreementRate, c.top1Agreements, c.samples)
            if let f = c.floatCorrect, let q = c.int8Correct, c.samples > 0 {
                line += String(format: "; accuracy float %.2f%%, int8 %.2f%%", 100 * Double(f) / Double(c.samples), 100 * Double(q) / Double(c.samples))
            }
            lines.append(line)
        }
        if !layers.isEmpty {
            lines.append("")
            let nameWidth = min(48, max(6, layers.map { $0.tensor.count }.max() ?? 6))
            lines.append("tensor".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  op                  SQNR dB    cosine   max |err|")
            for l in layers {
                let name = l.tensor.count > nameWidth ? "…" + l.tensor.suffix(nameWidth - 1) : l.tensor
                lines.append(
                    name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                        + l.op.padding(toLength: 18, withPad: " ", startingAt: 0)
                        + String(repeating: " ", count: max(0, 9 - formatSQNR(l.agreement.sqnr).count)) + formatSQNR(l.agreement.sqnr)
                        + String(format: "  %8.5f  %10.4g", l.agreement.cosine, l.agreement.maxAbsError))
            }
        }
        return lines.joined(separator: "\n")
    }
}

func formatSQNR(_ v: Double) -> String {
    v.isInfinite ? (v > 0 ? "inf" : "-inf") : String(format: "%.2f", v)
}

/// Why a baseline file could not be read.
public enum EvaluationResultError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not JSON, or not the JSON `quanta eval --write-baseline` writes.
    case notABaseline(String)

    public var description: String {
        switch self {
        case .notABaseline(let why): return "not a baseline written by quanta eval --write-baseline (\(why))"
        }
    }
}
