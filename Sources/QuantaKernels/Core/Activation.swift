/// The float functions the kernels need from libm, available on the host (Glibc) and
/// on Embedded Swift targets (linked from the C library as `expf` / `tanhf`).
public enum FloatMath {
    @inlinable
    public static func exp(_ x: Float) -> Float { _quantaExpf(x) }
    @inlinable
    public static func tanh(_ x: Float) -> Float { _quantaTanhf(x) }
    @inlinable
    public static func log(_ x: Float) -> Float { _quantaLogf(x) }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _quantaExpf(_ x: Float) -> Float { Glibc.expf(x) }
@usableFromInline func _quantaTanhf(_ x: Float) -> Float { Glibc.tanhf(x) }
@usableFromInline func _quantaLogf(_ x: Float) -> Float { Glibc.logf(x) }
#else
@_extern(c, "expf") @usableFromInline func _quantaExpf(_ x: Float) -> Float
@_extern(c, "tanhf") @usableFromInline func _quantaTanhf(_ x: Float) -> Float
@_extern(c, "logf") @usableFromInline func _quantaLogf(_ x: Float) -> Float
#endif

/// Unary elementwise activations. Each becomes a 256-entry lookup table in the int8
/// model (ReLU and ReLU6 standing alone included), or is fused as a clamp into the
/// producing op by the passes.
@frozen
public enum UnaryActivation: Equatable, Hashable, Sendable {
    case relu
    case relu6
    /// `min(max(x, min), max)`.
    case clip(min: Float, max: Float)
    /// `x * relu6(x + 3) / 6`.
    case hardSwish
    /// `max(0, min(1, alpha * x + beta))`; ONNX's default is alpha 0.2, beta 0.5.
    case hardSigmoid(alpha: Float, beta: Float)
    case sigmoid
    case tanh
    /// `x >= 0 ? x : alpha * x`.
    case leakyRelu(alpha: Float)
    /// `x * sigmoid(x)`.
    case swish
    /// `x >= 0 ? x : alpha * (exp(x) - 1)` (ONNX Elu; default alpha 1).
    case elu(alpha: Float)
    /// `log(1 + exp(x))`, as `max(x, 0) + log(1 + exp(-|x|))` (no overflow).
    case softplus

    /// The float function this activation computes.
    public func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .clip(let lo, let hi): return min(max(x, lo), hi)
        case .hardSwish: return x * Swift.min(max(x + 3, 0), 6) / 6
        case .hardSigmoid(let a, let b): return max(0, min(1, a * x + b))
        case .sigmoid: return 1 / (1 + FloatMath.exp(-x))
        case .tanh: return FloatMath.tanh(x)
        case .leakyRelu(let a): return x >= 0 ? x : a * x
        case .swish: return x / (1 + FloatMath.exp(-x))
        case .elu(let a): return x >= 0 ? x : a * (FloatMath.exp(x) - 1)
        case .softplus: return max(x, 0) + FloatMath.log(1 + FloatMath.exp(-abs(x)))
        }
    }

    /// The clamp this activation is, when it is one (fusable into the producer).
    public var asClamp: FloatClamp? {
        switch self {
        case .relu: return .relu
        case .relu6: return .relu6
        case .clip(let lo, let hi): return FloatClamp(min: lo, max: hi)
        default: return nil
        }
    }
}

