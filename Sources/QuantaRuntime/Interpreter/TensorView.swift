import QuantaKernels

/// A model input or output bound to the interpreter's arena: int8 NHWC data the caller
/// writes before `invoke` (inputs) or reads after it (outputs).
///
/// `data` points at `shape.elementCount` bytes inside the arena; it stays valid as long as
/// the arena does. Outputs are overwritten by the next `invoke`, and an input's bytes may
/// be reused for later tensors during `invoke` (write inputs again before each call).
@frozen
public struct TensorView {
    public let data: UnsafeMutablePointer<Int8>
    public let shape: TensorShape
    public let quantization: QuantizationParameters
    /// Layout of this tensor in the source model (NCHW for ONNX images); `data` is NHWC.
    public let sourceLayout: TensorLayout
    /// Index of the tensor in the model.
    public let tensorIndex: Int

    @inlinable
    public init(data: UnsafeMutablePointer<Int8>, shape: TensorShape, quantization: QuantizationParameters,
                sourceLayout: TensorLayout, tensorIndex: Int) {
        self.data = data
        self.shape = shape
        self.quantization = quantization
        self.sourceLayout = sourceLayout
        self.tensorIndex = tensorIndex
    }

    /// `shape.elementCount`.
    @inlinable public var count: Int { shape.elementCount }

    /// The tensor's bytes as a buffer.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Int8> { UnsafeMutableBufferPointer(start: data, count: count) }
}
