import QuantaKernels

/// The operators that only move bytes — TRANSPOSE, STRIDED_SLICE, SPLIT, SPLIT_V,
/// CONCATENATION — read once for both imports: each becomes reshapes (free), the vector
/// channel slice and concat, or strided copies, written by the conversion as its own op
/// kinds (`emit`). Their outputs keep the input's quantization (the int8 conversion
/// checks it in `emit`).
enum TFLiteMove {
    case reshape
    case concat
    case sliceChannels(start: Int, count: Int)
    case stridedCopy(StridedView)
}

extension TFLiteFileAccess {
    /// The operators `move` writes.
    static var moveCodes: Set<Int32> {
        [TFLiteOperatorCode.split, TFLiteOperatorCode.splitV, TFLiteOperatorCode.transpose,
         TFLiteOperatorCode.stridedSlice, TFLiteOperatorCode.concatenation]
    }

    /// TRANSPOSE / STRIDED_SLICE / SPLIT / SPLIT_V / CONCATENATION as moves.
    mutating func move(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let splits = code == TFLiteOperatorCode.split || code == TFLiteOperatorCode.splitV
        guard splits || op.outputs.count == 1 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "\(op.outputs.count) outputs")
        }
        switch code {
        case TFLiteOperatorCode.transpose:
            try single(try transposeView(op, name: name), channels: nil, op, name: name)
        case TFLiteOperatorCode.stridedSlice:
            let (view, channels) = try stridedSliceView(op, name: name)
            try single(view, channels: channels, op, name: name)
        case TFLiteOperatorCode.concatenation:
            try concatenation(op, name: name)
        default:
            try split(op, code: code, name: name)
        }
    }

    /// One view of input 0 into output 0: the vector channel slice when it is one channel
    /// range, a reshape when it keeps every byte in order, else a strided copy.
    private mutating func single(_ view: StridedView, channels: (start: Int, count: Int)?, _ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let output = try newOutput(op.outputs[0], name: name)
        let move: TFLiteMove
        if let channels {  // the last axis is Quanta's channels in every rank's reading (`nhwc`)
            move = .sliceChannels(start: channels.start, count: channels.count)
        } else if view.isIdentity(inputCount: file.tensors[op.inputs[0] ?? 0].shape.reduce(1, *)) {
            move = .reshape
        } else {
            move = .stridedCopy(view)
        }
        try emit(move, inputs: [input], output: output, name: name)
    }

    /// SPLIT (axis, input) and SPLIT_V (input, sizes, axis) along any axis: along the last,
    /// channel slices; along another, one slice view per output.
    private mutating func split(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let isSplit = code == TFLiteOperatorCode.split
        let inputIndex = isSplit ? 1 : 0
        guard !op.outputs.isEmpty else { throw TFLiteImportError.invalidModel(op: name, detail: "0 outputs") }
        guard inputIndex < op.inputs.count, let t = op.inputs[inputIndex] else {
            throw TFLiteImportError.invalidModel(op: name, detail: "input \(inputIndex) is missing")
        }
        let dims = file.tensors[t].shape
        var axis = try integers(op.inputs.count > (isSplit ? 0 : 2) ? op.inputs[isSplit ? 0 : 2] : nil, op: name, what: "axis").first ?? -1
        if axis < 0 { axis += dims.count }
        guard (0..<dims.count).contains(axis), dims.count <= StridedCopyGeometry.rank else {
            throw TFLiteImportError.invalidModel(op: name, detail: "split of axis \(axis) of a rank-\(dims.count) tensor")
        }
        let d = dims[axis], parts = op.outputs.count
        var sizes: [Int]
        if isSplit {
            guard d % parts == 0 else { throw TFLiteImportError.invalidModel(op: name, detail: "split of \(d) into \(parts)") }
            sizes = [Int](repeating: d / parts, count: parts)
        } else {
            sizes = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "size_splits")
            if let unknown = sizes.firstIndex(of: -1) { sizes[unknown] = d - sizes.filter { $0 != -1 }.reduce(0, +) }
        }
        guard sizes.count == parts, sizes.allSatisfy({ $0 >= 1 }), sizes.reduce(0, +) == d else {
            throw TFLiteImportError.invalidModel(op: name, detail: "split sizes \(sizes) of \(d) into \(parts) outputs")
        }
        let input = try self.input(op, inputIndex, name: name)
        var start = 0
        for (k, size) in sizes.enumerated() {
            var count = dims
            count[axis] = size
            guard file.tensors[op.outputs[k]].shape == count else {
                throw TFLiteImportError.invalidModel(op: name, detail: "output \(k) is \(file.tensors[op.outputs[k]].shape), the split gives \(count)")
            }
            let output = try newOutput(op.outputs[k], name: name)
            var first = [Int](repeating: 0, count: dims.count)
            first[axis] = start
            let move: TFLiteMove = axis == dims.count - 1
                ? .sliceChannels(start: start, count: size)
                : .stridedCopy(.slice(shape: dims, start: first, step: [Int](repeating: 1, count: dims.count), count: count))
            try emit(move, inputs: [input], output: output, name: "\(name) [\(k)]")
            start += size
        }
    }

    /// CONCATENATION along any axis, without a fused activation: along the last axis the
    /// channel concat; along axis `a`, the same concat of the inputs viewed as
    /// `outer × (d_a·inner)` (outer: the dimensions before `a`; reshapes, free), reshaped to
    /// the output.
    private mutating func concatenation(_ op: TFLiteOperator, name: String) throws {
        // ConcatenationOptions: axis 0, activation 1.
        let options = try self.options(op, type: 10, name: name)
        guard try options?.i8(1) ?? 0 == 0 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "a fused activation on a concatenation")
        }
        let outDims = file.tensors[op.outputs[0]].shape
        let rank = outDims.count
        var axis = Int(try options?.i32(0) ?? 0)
        if axis < 0 { axis += rank }
        guard (0..<rank).contains(axis), !op.inputs.isEmpty else {
            throw TFLiteImportError.invalidModel(op: name, detail: "concatenation along axis \(axis) of rank \(rank)")
        }
        var inputs: [Int] = [], along = 0
        for k in op.inputs.indices {
            let dims = file.tensors[op.inputs[k] ?? 0].shape
            guard dims.count == rank, (0..<rank).allSatisfy({ $0 == axis || dims[$0] == outDims[$0] }) else {
                throw TFLiteImportError.invalidModel(op: name, detail: "input \(k) of shape \(dims) does not join \(outDims) along axis \(axis)")
            }
            along += dims[axis]
            inputs.append(try input(op, k, name: name))
        }
        guard along == outDims[axis] else {
            throw TFLiteImportError.invalidModel(op: name, detail: "the inputs give \(along) along axis \(axis), the output has \(outDims[axis])")
        }
        let output = try newOutput(op.outputs[0], name: name)
        guard axis < rank - 1 else { return try emit(.concat, inputs: inputs, output: output, name: name) }
        let outer = outDims[..<axis].reduce(1, *)
        let inner = outDims[(axis + 1)...].reduce(1, *)
        var views: [Int] = []
        for (k, t) in inputs.enumerated() {
            let rows = file.tensors[op.inputs[k] ?? 0].shape[axis]
            let view = addTensor(like: t, shape: TensorShape(n: 1, h: 1, w: outer, c: rows * inner), name: "\(name) [input \(k) as rows]")
            try emit(.reshape, inputs: [t], output: view, name: "\(name) [input \(k) as rows]")
            views.append(view)
        }
        let joined = addTensor(like: output, shape: TensorShape(n: 1, h: 1, w: outer, c: outDims[axis] * inner), name: "\(name) [rows]")
        try emit(.concat, inputs: views, output: joined, name: name)
        try emit(.reshape, inputs: [joined], output: output, name: "\(name) [output]")
    }
}
