/// Why a benchmark could not run.
public enum BenchmarkError: Error, Equatable, CustomStringConvertible {
    /// `iterations` must be at least 1.
    case noIterations
    /// The model has `count` inputs; the benchmark feeds models with one input.
    case inputCount(count: Int)
    /// The float model's input holds `floatElements` values, the int8 model's `int8Elements`.
    case floatInputMismatch(onnx: String, floatElements: Int, int8Elements: Int)
    /// The float model's output holds `floatElements` values, the int8 model's `int8Elements`.
    case floatOutputMismatch(onnx: String, floatElements: Int, int8Elements: Int)

    public var description: String {
        switch self {
        case .noIterations:
            return "--iterations must be at least 1"
        case .inputCount(let n):
            return "the model has \(n) inputs; bench feeds models with exactly one input"
        case .floatInputMismatch(let path, let f, let q):
            return "\(path): its input holds \(f) values, the .qmodel's input \(q); is it the same model?"
        case .floatOutputMismatch(let path, let f, let q):
            return "\(path): its output holds \(f) values, the .qmodel's output \(q); is it the same model?"
        }
    }
}
