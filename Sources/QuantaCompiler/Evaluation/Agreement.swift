import CQuantaHost
import Foundation

/// How closely an approximation (int8, dequantized) follows a reference (float), over one
/// tensor or accumulated over many samples.
public struct Agreement: Equatable, Codable {
    /// Signal-to-quantization-noise ratio in dB: `10 log10(Σ ref² / Σ (ref - approx)²)`;
    /// `+infinity` when they are equal (reported as 999 in JSON).
    public var sqnr: Double
    /// `Σ ref·approx / (‖ref‖ ‖approx‖)`; 1 when both are zero.
    public var cosine: Double
    public var maxAbsError: Double
    public var elementCount: Int

    public init(sqnr: Double, cosine: Double, maxAbsError: Double, elementCount: Int) {
        self.sqnr = sqnr
        self.cosine = cosine
        self.maxAbsError = maxAbsError
        self.elementCount = elementCount
    }
}

/// Accumulates `Agreement` over any number of (reference, approximation) pairs.
public struct AgreementAccumulator {
    private var signal = 0.0
    private var noise = 0.0
    private var dot = 0.0
    private var refNorm = 0.0
    private var approxNorm = 0.0
    private var maxError = 0.0
    private var absError = 0.0
    private var count = 0
    /// Reference values beyond the int8 grid by more than half a step (`add(sums:)` of
    /// `quanta_agreement_int8` only).
    public private(set) var clipped = 0

    public init() {}

    /// Σ |ref - approx| / elements (0 before any).
    public var meanAbsError: Double { count == 0 ? 0 : absError / Double(count) }

    /// The share of reference values the int8 grid saturates (0 before any).
    public var clippingShare: Double { count == 0 ? 0 : Double(clipped) / Double(count) }

    /// Adds one pair; `reference` and `approximation` have the same length.
    public mutating func add(reference: [Float], approximation: [Float]) {
        precondition(reference.count == approximation.count, "agreement over tensors of different sizes")
        for i in 0..<reference.count {
            let r = Double(reference[i]), a = Double(approximation[i])
            signal += r * r
            noise += (r - a) * (r - a)
            dot += r * a
            refNorm += r * r
            approxNorm += a * a
            maxError = max(maxError, abs(r - a))
            absError += abs(r - a)
        }
        count += reference.count
    }

    /// Adds the sums of one pair computed elsewhere (`quanta_agreement_int8/float`: per pair
    /// in four interleaved lanes, so the last digits of the figures can differ from adding
    /// the same pair with `add(reference:approximation:)`).
    mutating func add(sums s: quanta_agreement_sums) {
        signal += s.signal
        noise += s.noise
        dot += s.dot
        refNorm += s.signal
        approxNorm += s.approx_norm
        maxError = max(maxError, s.max_error)
        absError += s.abs_error
        count += s.count
        clipped += s.clipped
    }

    public var result: Agreement {
        let sqnr: Double
        if noise == 0 { sqnr = .infinity } else if signal == 0 { sqnr = -.infinity } else { sqnr = 10 * log10Double(signal / noise) }
        let denominator = (refNorm * approxNorm).squareRoot()
        let cosine = denominator == 0 ? (refNorm == approxNorm ? 1 : 0) : dot / denominator
        return Agreement(sqnr: sqnr, cosine: cosine, maxAbsError: maxError, elementCount: count)
    }
}

/// Top-1 agreement and accuracy over classifier outputs.
public struct ClassificationAgreement: Equatable, Codable {
    public var samples: Int
    /// Samples where int8 and float pick the same class.
    public var top1Agreements: Int
    /// With labels: samples each gets right; nil without labels.
    public var floatCorrect: Int?
    public var int8Correct: Int?

    public init(samples: Int = 0, top1Agreements: Int = 0, floatCorrect: Int? = nil, int8Correct: Int? = nil) {
        self.samples = samples
        self.top1Agreements = top1Agreements
        self.floatCorrect = floatCorrect
        self.int8Correct = int8Correct
    }

    public var agreementRate: Double { samples == 0 ? 0 : Double(top1Agreements) / Double(samples) }

    /// Adds one sample's scores (same length) and, when known, its label.
    public mutating func add(reference: [Float], approximation: [Float], label: Int?) {
        let r = argmax(reference), a = argmax(approximation)
        samples += 1
        if r == a { top1Agreements += 1 }
        if let label {
            floatCorrect = (floatCorrect ?? 0) + (r == label ? 1 : 0)
            int8Correct = (int8Correct ?? 0) + (a == label ? 1 : 0)
        }
    }
}

/// Index of the largest value (the first one on ties); -1 for an empty array.
public func argmax(_ values: [Float]) -> Int {
    var best = -1
    var bestValue = -Float.infinity
    for (i, v) in values.enumerated() where best < 0 || v > bestValue {
        best = i
        bestValue = v
    }
    return best
}

@inline(__always) func log10Double(_ x: Double) -> Double { Foundation.log10(x) }
