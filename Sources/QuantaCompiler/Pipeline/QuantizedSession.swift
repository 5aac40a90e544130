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

    /// Quantizes float `values` (NHWC) with input `i`'s parameters.
    public func setInput(_ i: Int, float values: [Float]) {
        let q = interpreter.input(i).quantization
        setInput(i, int8: values.map { Quantizer.quantize($0, q) })
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
