import QuantaDiagnostics
import QuantaKernels
import QuantaRuntime

/// A `ModelError` from the runtime, with the file it came from, for the host tools.
public struct ModelLoadError: Error, CustomStringConvertible {
    public var source: String
    public var error: ModelError

    public var description: String { "\(source): " + ModelErrorMessage.describe(error) }
}

/// The int8 runtime on the host: a `.qmodel` held in 16-byte-aligned memory (the
/// runtime reads weights in place), an arena of exactly the size the model states, and
/// an interpreter bound to both. Inputs and outputs are float, in NHWC, quantized and
/// dequantized with the model's own parameters.
public final class QuantizedSession {
    private let modelBytes: UnsafeMutableRawBufferPointer
    private let arena: UnsafeMutableRawBufferPointer
    public let model: Model
    public let interpreter: Interpreter

    /// Loads and validates `bytes` (the contents of a `.qmodel`); `source` names it in errors.
    public init(bytes: [UInt8], source: String = "model") throws {
        modelBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        modelBytes.copyBytes(from: bytes)
        let view = UnsafeRawBufferPointer(rebasing: modelBytes[0..<bytes.count])
        do {
            model = try Model(bytes: view)
        } catch {
            modelBytes.deallocate()
            throw ModelLoadError(source: source, error: error)
        }
        arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, model.arenaSize), alignment: 64)
        do {
            interpreter = try Interpreter(model: model, arena: arena)
        } catch {
            arena.deallocate()
            modelBytes.deallocate()
            throw ModelLoadError(source: source, error: error)
        }
    }

    deinit {
        arena.deallocate()
        modelBytes.deallocate()
    }

    /// Copies int8 `values` (NHWC) into input `i`.
    public func setInput(_ i: Int, int8 values: [Int8]) {
        let view = interpreter.input(i)
        precondition(values.count == view.shape.elementCount, "input \(i): \(values.count) values for shape \(view.shape)")
        values.withUnsafeBufferPointer { view.data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Float input values quantized so far (`setInput(_:float:)`), and how many of them lay
    /// outside the input's int8 range and were clipped (or were NaN).
    public private(set) var inputValueCount = 0
    public private(set) var inputClippedCount = 0

    /// The float range input `i` represents: `(-128 - zp)·scale ... (127 - zp)·scale`.
    public func inputRange(_ i: Int) -> ClosedRange<Float> {
        let q = interpreter.input(i).quantization
        return Quantizer.dequantize(-128, q)...Quantizer.dequantize(127, q)
    }

    /// Quantizes float `values` (NHWC) with input `i`'s parameters; counts the values the
    /// quantization clips.
    public func setInput(_ i: Int, float values: [Float]) {
        let q = interpreter.input(i).quantization
        let range = inputRange(i)
        // Half a step beyond either end still rounds to the end value.
        let lo = range.lowerBound - q.scale / 2, hi = range.upperBound + q.scale / 2
        var clipped = 0
        for x in values where !(x >= lo && x <= hi) { clipped += 1 }
        inputValueCount += values.count
        inputClippedCount += clipped
        setInput(i, int8: values.map { Quantizer.quantize($0, q) })
    }

    /// The share (0...1) of the float input values clipped so far; 0 before any.
    public var inputClippedShare: Double { inputValueCount == 0 ? 0 : Double(inputClippedCount) / Double(inputValueCount) }

    /// A note for people when more than `threshold` of the input values were clipped (nil
    /// otherwise): the data lies outside the range the model was calibrated for.
    public func inputClippingNote(threshold: Double = 0.01) -> String? {
        Self.inputClippingNote([self], threshold: threshold)
    }

    /// The note over the inputs of several sessions of one model (one per thread).
    public static func inputClippingNote(_ sessions: [QuantizedSession], threshold: Double = 0.01) -> String? {
        let values = sessions.reduce(0) { $0 + $1.inputValueCount }, clipped = sessions.reduce(0) { $0 + $1.inputClippedCount }
        guard let first = sessions.first, values > 0 else { return nil }
        let share = Double(clipped) / Double(values)
        guard share > threshold else { return nil }
        let r = first.inputRange(0)
        return "note: " + formatPercent(share) + " of the input values lie outside the model's input range ["
            + String(format: "%.4g", Double(r.lowerBound)) + ", " + String(format: "%.4g", Double(r.upperBound))
            + "] and were clipped: the data differs from the calibration data (its scale or preprocessing?)"
    }

    public func invoke() {
        interpreter.invoke()
    }

    /// Output `i` as raw int8, NHWC.
    public func outputInt8(_ i: Int) -> [Int8] {
        let view = interpreter.output(i)
        return Array(UnsafeBufferPointer(start: view.data, count: view.shape.elementCount))
    }

    /// Output `i` dequantized, NHWC.
    public func outputFloat(_ i: Int) -> [Float] {
        let q = interpreter.output(i).quantization
        return outputInt8(i).map { Quantizer.dequantize($0, q) }
    }

    /// Runs one sample: `inputs[i]` (float, NHWC) for each model input; returns every output
    /// dequantized (NHWC).
    public func run(_ inputs: [[Float]]) -> [[Float]] {
        for (i, values) in inputs.enumerated() { setInput(i, float: values) }
        invoke()
        return (0..<model.outputCount).map { outputFloat($0) }
    }
}
