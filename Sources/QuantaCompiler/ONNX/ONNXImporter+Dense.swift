import QuantaKernels

extension ImportContext {
    /// The input of a fully connected layer: `[N, K]` (or `[N, K, 1, 1]`). Returns the
    /// activation and, for each NHWC input position `j`, the ONNX column it holds.
    /// The activation and, when it is the flatten of an `[N, C, H, W]` tensor, that shape
    /// (its NHWC order differs from ONNX's; `columns(of:)` maps it once the weights' K is
    /// known to match).
    private func denseInput(_ name: String, _ op: NodeContext) throws -> (ImportedActivation, [Int]?) {
        let x = try activation(name, op)
        if x.dims.count == 4 && !(x.dims[2] == 1 && x.dims[3] == 1) {
            throw op.mismatch("input \(x.dims) must be [N, K]")
        }
        return (x, x.flattenedFrom)
    }

    /// NHWC position j = (y * W + x) * C + c holds ONNX column c * H * W + y * W + x.
    private func columns(of from: [Int]) -> [Int] {
        let (c, h, w) = (from[1], from[2], from[3])
        var columns = [Int](repeating: 0, count: c * h * w)
        for y in 0..<h { for xx in 0..<w { for k in 0..<c { columns[(y * w + xx) * c + k] = (k * h + y) * w + xx } } }
        return columns
    }

    /// Gemm: `alpha * A * B' + beta * C` with constant B (and C), A an activation,
    /// `transA = 0`. Becomes a fully connected layer with weights `[N][K]`.
    func importGemm(_ op: NodeContext) throws {
        guard op.int("transA", 0) == 0 else { throw op.unsupported("transA = 1") }
        let (x, columns) = try denseInput(try op.input(0), op)
        let b = try constant(try op.input(1), op)
        guard b.dims.count == 2 else { throw op.mismatch("B has shape \(b.dims), expected rank 2") }
        let transB = op.int("transB", 0) != 0
        let k = transB ? b.dims[1] : b.dims[0]
        let n = transB ? b.dims[0] : b.dims[1]
        let alpha = op.float("alpha", 1), beta = op.float("beta", 1)
        var bias = [Float](repeating: 0, count: n)
        if let cName = op.optionalInput(2) {
            let c = try constant(cName, op)
            guard c.count == n || c.count == 1 else { throw op.mismatch("C has shape \(c.dims) for \(n) outputs") }
            for o in 0..<n { bias[o] = beta * c.floats[c.count == 1 ? 0 : o] }
        }
        try emitFullyConnected(op, x: x, columns: columns, k: k, n: n, bias: bias) { o, i in
            alpha * (transB ? b.floats[o * k + i] : b.floats[i * n + o])
        }
    }

    /// MatMul of an `[N, K]` activation by a constant `[K, M]`: a fully connected layer
    /// with zero bias (a following Add of a constant folds into the bias).
    func importMatMul(_ op: NodeContext) throws {
        let (x, columns) = try denseInput(try op.input(0), op)
        let b = try constant(try op.input(1), op)
        guard b.dims.count == 2 else { throw op.unsupported("MatMul with a constant of shape \(b.dims) (rank 2 only)") }
        let k = b.dims[0], n = b.dims[1]
        try emitFullyConnected(op, x: x, columns: columns, k: k, n: n, bias: [Float](repeating: 0, count: n)) { o, i in
            b.floats[i * n + o]
        }
    }

    private func emitFullyConnected(
        _ op: NodeContext, x: ImportedActivation, columns flattenedFrom: [Int]?, k: Int, n: Int, bias: [Float],
        weight: (Int, Int) -> Float
    ) throws {
        // Checked before anything of the input's size is allocated: K is the constant
        // weights' (bounded by the file), the input's feature count is not.
        guard x.dims[1] == k else { throw op.mismatch("input has \(x.dims[1]) features, weights expect \(k)") }
        let columns = flattenedFrom.map { self.columns(of: $0) }
        var weights = [Float](repeating: 0, count: n * k)
        for o in 0..<n {
            for j in 0..<k { weights[o * k + j] = weight(o, columns?[j] ?? j) }
        }
        let fc = FullyConnectedOp(outputCount: n, inputCount: k, weights: weights, bias: bias)
        emit(op, .fullyConnected(fc), inputs: [x.tensor], output: try op.output(0), dims: [x.dims[0], n])
    }

    /// Softmax and LogSoftmax over any axis. On the NHWC storage where the axis is its last:
    /// `[N, C]` over axis 1, `[N, C, H, W]` over axis 1 per pixel (opset 13+) or, before
    /// opset 13 (which coerces to 2-D from the axis), when H·W = 1. Otherwise on the data in
    /// ONNX order: over its last axis directly; before opset 13 over the flattened
    /// `[d0·…·d(axis-1), d(axis)·…]` (reshapes, free); from opset 13 over a middle axis
    /// between two transposes that move it last and back (the merge pass may join them to
    /// the neighbouring copies).
    func importSoftmax(_ op: NodeContext) throws {
        let softmax: GraphOp = op.opType == "LogSoftmax" ? .logSoftmax : .softmax
        let held = try anyActivation(try op.input(0), op)
        let rank = held.dims.count
        let axis = try op.axis(op.int("axis", op.opset < 13 ? 1 : -1), rank: rank, "\(op.opType) axis")
        let output = try op.output(0)
        let nhwcFits = !held.plain && axis == 1
            && (rank == 2 || (rank == 4 && (op.opset >= 13 || held.dims[2] * held.dims[3] == 1)))
        if nhwcFits {
            // Over all features of a flattened input too: order-independent, it stays flattened.
            emit(op, softmax, inputs: [held.tensor], output: output, dims: held.dims, flattenedFrom: held.flattenedFrom)
            return
        }
        let x = plain(held, op)
        if axis == rank - 1 {
            try emitPlain(op, softmax, inputs: [x.tensor], output: output, dims: x.dims)
        } else if op.opset < 13 {
            let rows = [x.dims[..<axis].reduce(1, *), x.dims[axis...].reduce(1, *)]
            let flat = try emitPlain(op, .reshape, inputs: [x.tensor], output: output + " [2-D]", dims: rows)
            let y = try emitPlain(op, softmax, inputs: [flat.tensor], output: output + " [2-D softmax]", dims: rows)
            try emitPlain(op, .reshape, inputs: [y.tensor], output: output, dims: x.dims)
        } else {
            let perm = (0..<rank).filter { $0 != axis } + [axis]
            let inverse = (0..<rank).map { a in perm.firstIndex(of: a)! }
            let moved = perm.map { x.dims[$0] }
            let last = try emitPlain(op, .stridedCopy(.transpose(shape: x.dims, permutation: perm)), inputs: [x.tensor],
                                     output: output + " [axis last]", dims: moved)
            let y = try emitPlain(op, softmax, inputs: [last.tensor], output: output + " [softmax]", dims: moved)
            try emitPlain(op, .stridedCopy(.transpose(shape: moved, permutation: inverse)), inputs: [y.tensor], output: output, dims: x.dims)
        }
    }
}
