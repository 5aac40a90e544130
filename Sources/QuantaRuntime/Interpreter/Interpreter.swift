import QuantaKernels

/// Runs a validated model's static layer plan in a caller-provided arena.
///
/// `invoke` executes the ops in file order, each with the kernel variant the compiler
/// chose, reading weights in place from the model bytes and activations from the arena.
/// It allocates nothing and, because `Model.init` validated every offset, shape and
/// parameter, reads only the model bytes and reads and writes only
/// `arena[0 ..< model.arenaSize]`.
///
/// An interpreter is a value over borrowed memory: the model bytes and the arena must
/// outlive it, and two interpreters must not share an arena while invoking.
public struct Interpreter {
    public let model: Model
    public let arena: Arena

    /// Binds `model` to `arena`, which must hold at least `model.arenaSize` bytes
    /// (`.arenaTooSmall(needed:provided:)` otherwise) and start on a 16-byte boundary.
    public init(model: Model, arena: UnsafeMutableRawBufferPointer) throws(ModelError) {
        self.model = model
        self.arena = try Arena(model: model, buffer: arena)
    }

    /// Model input `i` (`0 ..< model.inputCount`): write its int8 NHWC data before `invoke`.
    public func input(_ i: Int) -> TensorView {
        precondition(i >= 0 && i < model.inputCount, "input index out of range")
        return view(model.inputTensor(i))
    }

    /// Model output `i` (`0 ..< model.outputCount`): valid after `invoke`.
    public func output(_ i: Int) -> TensorView {
        precondition(i >= 0 && i < model.outputCount, "output index out of range")
        return view(model.outputTensor(i))
    }

    /// The view of arena tensor `t`.
    func view(_ t: Int) -> TensorView {
        let r = model.tensorRecord(t)
        let layout = TensorLayout(rawValue: model.reader.byte(r + Model.tensorLayout)) ?? .nhwc
        return TensorView(
            data: arena.pointer(model.arenaOffset(t)).assumingMemoryBound(to: Int8.self), shape: model.shape(t),
            quantization: model.quantization(t), sourceLayout: layout, tensorIndex: t)
    }

    /// Data of tensor `t`: in the arena, or in the constants section for constant tensors
    /// (which kernels only read).
    @inlinable
    func data(_ t: Int) -> UnsafeMutablePointer<Int8> {
        if model.isArenaTensor(t) {
            return arena.pointer(model.arenaOffset(t)).assumingMemoryBound(to: Int8.self)
        }
        return UnsafeMutableRawPointer(mutating: model.base + model.constantTensorOffset(t))
            .assumingMemoryBound(to: Int8.self)
    }

    /// Runs every op of the plan once.
    public func invoke() {
        for i in 0..<model.opCount {
            run(model.opRecord(i))
        }
    }

    /// Runs ops `range` only (for per-layer comparison tools); the inputs of the first op
    /// must be in the arena already.
    public func invoke(ops range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= model.opCount, "op range out of bounds")
        for i in range { run(model.opRecord(i)) }
    }

    /// View of any arena tensor (intermediate activations, for layer-by-layer comparison).
    /// Returns nil for constant tensors.
    public func tensor(_ t: Int) -> TensorView? {
        precondition(t >= 0 && t < model.tensorCount, "tensor index out of range")
        return model.isArenaTensor(t) ? view(t) : nil
    }
}
