import QuantaKernels

extension ImportContext {
    /// Relu, Clip, HardSwish, HardSigmoid, Sigmoid, Tanh, LeakyRelu, Elu, Softplus → `.activation`.
    /// Clip reads min/max from attributes before opset 11 and from optional constant
    /// inputs from opset 11; Clip(0, 6) is `.relu6`, Clip(0, +inf) `.relu`.
    func importActivation(_ op: NodeContext) throws {
        let x = try anyActivation(try op.input(0), op)
        let kind: UnaryActivation
        switch op.opType {
        case "Relu": kind = .relu
        case "Sigmoid": kind = .sigmoid
        case "Tanh": kind = .tanh
        case "HardSwish": kind = .hardSwish
        case "HardSigmoid": kind = .hardSigmoid(alpha: op.float("alpha", 0.2), beta: op.float("beta", 0.5))
        case "LeakyRelu": kind = .leakyRelu(alpha: op.float("alpha", 0.01))
        case "Elu": kind = .elu(alpha: op.float("alpha", 1))
        case "Softplus": kind = .softplus
        default: kind = try clipActivation(op)
        }
        try emitLike(x, op, .activation(kind), inputs: [x.tensor], output: try op.output(0), dims: x.dims)  // any order
    }

    /// Neg of an activation: a mul by the scalar −1 (elementwise, in either holding).
    func importNeg(_ op: NodeContext) throws {
        let x = try anyActivation(try op.input(0), op)
        let minusOne = addConstantTensor(name: op.name + " [-1]", shape: TensorShape(n: 1, h: 1, w: 1, c: 1), data: [-1])
        try emitLike(x, op, .mul(.none), inputs: [x.tensor, minusOne], output: try op.output(0), dims: x.dims)
    }

    private func clipActivation(_ op: NodeContext) throws -> UnaryActivation {
        var lo = -Float.infinity
        var hi = Float.infinity
        if op.opset < 11 {
            lo = op.float("min", -Float.infinity)
            hi = op.float("max", Float.infinity)
        } else {
            if let name = op.optionalInput(1) {
                let c = try constant(name, op)
                guard c.count == 1 else { throw op.unsupported("min with \(c.count) values (scalar only)") }
                lo = c.floats[0]
            }
            if let name = op.optionalInput(2) {
                let c = try constant(name, op)
                guard c.count == 1 else { throw op.unsupported("max with \(c.count) values (scalar only)") }
                hi = c.floats[0]
            }
        }
        // Exporters write FLT_MAX for "no bound".
        if lo <= -Float.greatestFiniteMagnitude { lo = -Float.infinity }
        if hi >= Float.greatestFiniteMagnitude { hi = Float.infinity }
        if lo == 0 && hi == 6 { return .relu6 }
        if lo == 0 && hi == .infinity { return .relu }
        return .clip(min: lo, max: hi)
    }

    /// Add / Mul of two activations or of an activation and a constant; Sub and Div with
    /// a constant second operand (as Add of `-b`, Mul by `1/b`). The broadcast operand
    /// (`n×1×1×c`, `1×1×1×1`, or a constant) is always the second graph input. An Add of a
    /// per-channel constant right after a convolution or fully connected layer whose
    /// output nothing else reads is folded into its bias (MatMul + Add → FC).
    func importBinary(_ op: NodeContext) throws {
        let aName = try op.input(0), bName = try op.input(1)
        let a = try value(aName, op), b = try value(bName, op)
        let output = try op.output(0)
        let isCommutative = op.opType == "Add" || op.opType == "Mul"
        switch (a, b) {
        case (.activation(var x), .activation(var y)):
            guard isCommutative else { throw op.pattern("\(op.opType) of two activations (only Add and Mul)") }
            if x.plain || y.plain {
                // Both in one holding: NHWC when the ranks allow, else ONNX order (same dims).
                if [2, 4].contains(x.dims.count) && [2, 4].contains(y.dims.count) {
                    (x, y) = (try nhwc(x, op), try nhwc(y, op))
                } else {
                    (x, y) = (plain(x, op), plain(y, op))
                    guard x.dims == y.dims else {
                        throw op.unsupported("\(op.opType) broadcasting \(y.dims) to \(x.dims) (tensors held in ONNX order: the same shape only)")
                    }
                    try emitPlain(op, op.opType == "Add" ? .add(.none) : .mul(.none), inputs: [x.tensor, y.tensor], output: output, dims: x.dims)
                    return
                }
            }
            if x.flattenedFrom != nil || y.flattenedFrom != nil {
                guard x.dims == y.dims, x.flattenedFrom == y.flattenedFrom else {
                    throw op.pattern("broadcast with a flattened spatial tensor")
                }
            }
            var sx = graph.tensors[x.tensor].shape, sy = graph.tensors[y.tensor].shape
            if sx != sy && isBroadcastOperand(sx, of: sy) {
                swap(&x, &y)
                swap(&sx, &sy)
            }
            guard sx == sy || isBroadcastOperand(sy, of: sx) else {
                throw op.mismatch("cannot broadcast \(y.dims) to \(x.dims)")
            }
            let graphOp: GraphOp = op.opType == "Add" ? .add(.none) : .mul(.none)
            emit(op, graphOp, inputs: [x.tensor, y.tensor], output: output, dims: x.dims, flattenedFrom: x.flattenedFrom)
        case (.activation(let x), .constant(var c)), (.constant(var c), .activation(let x)):
            let constantFirst: Bool
            if case .constant = a { constantFirst = true } else { constantFirst = false }
            // The result is held as x is (an elementwise op keeps any order).
            func put(_ graphOp: GraphOp, _ inputs: [Int], _ name: String) throws -> ImportedActivation {
                try emitLike(x, op, graphOp, inputs: inputs, output: name, dims: x.dims)
            }
            func laidOut(_ c: ImportedConstant) throws -> (TensorShape, [Float]) {
                x.plain ? try plainConstant(c, to: x.dims, op) : try broadcastConstant(c, to: x, op)
            }
            if constantFirst && op.opType == "Sub" {
                // c - x = (-1) * x + c (both fold into a neighbouring conv as affine ops).
                let minusOne = addConstantTensor(name: output + "/-1", shape: TensorShape(n: 1, h: 1, w: 1, c: 1), data: [-1])
                let negated = try put(.mul(.none), [x.tensor, minusOne], output + "/neg")
                let (shape, data) = try laidOut(c)
                let t = addConstantTensor(name: aName, shape: shape, data: data)
                _ = try put(.add(.none), [negated.tensor, t], output)
                return
            }
            if constantFirst && !isCommutative {
                throw op.pattern("\(op.opType) with a constant first operand")
            }
            if op.opType == "Sub" { c.floats = c.floats.map { -$0 } }
            if op.opType == "Div" { c.floats = c.floats.map { 1 / $0 } }
            let isAdd = op.opType == "Add" || op.opType == "Sub"
            let (shape, data) = try laidOut(c)
            if isAdd, !x.plain, foldIntoBias(x, onnxName: constantFirst ? bName : aName, shape: shape, data: data, output: output) {
                return
            }
            let t = addConstantTensor(name: constantFirst ? aName : bName, shape: shape, data: data)
            _ = try put(isAdd ? .add(.none) : .mul(.none), [x.tensor, t], output)
        case (.constant, .constant):
            throw op.pattern("constant-only \(op.opType) not folded")  // unreachable: folded earlier
        default:
            throw op.pattern("operand is part of an unfinished channel shuffle")
        }
    }

    /// A constant operand of a tensor held in ONNX order (`dims`): `1×1×1×1` for a scalar,
    /// else broadcast (numpy's rules, right-aligned) to the whole of `dims`, row-major.
    func plainConstant(_ c: ImportedConstant, to dims: [Int], _ op: NodeContext) throws -> (TensorShape, [Float]) {
        if c.count == 1 { return (TensorShape(n: 1, h: 1, w: 1, c: 1), c.floats) }
        guard c.dims.count <= dims.count else { throw op.mismatch("constant \(c.dims) has a higher rank than \(dims)") }
        let cd = [Int](repeating: 1, count: dims.count - c.dims.count) + c.dims
        for (i, d) in cd.enumerated() where d != 1 && d != dims[i] {
            throw op.mismatch("constant \(c.dims) does not broadcast to \(dims)")
        }
        let count = dims.reduce(1, *)
        try op.check("the element count of the constant broadcast to \(dims)", count, limit: ONNXLimits.maxFoldedElements)
        // Source strides of the constant, 0 along its broadcast axes.
        var strides = [Int](repeating: 0, count: dims.count), s = 1
        for i in cd.indices.reversed() {
            strides[i] = cd[i] == 1 ? 0 : s
            s *= cd[i]
        }
        var data = [Float](repeating: 0, count: count)
        for flat in 0..<count {
            var rest = flat, source = 0
            for i in dims.indices.reversed() {
                source += (rest % dims[i]) * strides[i]
                rest /= dims[i]
            }
            data[flat] = c.floats[source]
        }
        return (plainShape(dims), data)
    }

    /// `b` broadcasts over `a` in the graph kernels: `n×1×1×c` or `1×1×1×1`.
    func isBroadcastOperand(_ b: TensorShape, of a: TensorShape) -> Bool {
        if b.h != 1 || b.w != 1 { return false }
        if b.n == 1 && b.c == 1 { return true }
        return b.n == a.n && b.c == a.c
    }

    /// A constant operand laid out for the kernels: `1×1×1×1` (scalar), `n×1×1×c`
    /// (per channel, replicated over the batch) or the activation's full NHWC shape.
    func broadcastConstant(_ c: ImportedConstant, to x: ImportedActivation, _ op: NodeContext) throws -> (TensorShape, [Float]) {
        if c.count == 1 { return (TensorShape(n: 1, h: 1, w: 1, c: 1), c.floats) }
        guard x.flattenedFrom == nil else { throw op.pattern("non-scalar constant applied to a flattened spatial tensor") }
        let rank = x.dims.count
        guard c.dims.count <= rank else { throw op.mismatch("constant \(c.dims) has a higher rank than \(x.dims)") }
        let cd = [Int](repeating: 1, count: rank - c.dims.count) + c.dims
        for (i, d) in cd.enumerated() where d != 1 && d != x.dims[i] {
            throw op.mismatch("constant \(c.dims) does not broadcast to \(x.dims)")
        }
        let n = x.dims[0], ch = x.dims[1]
        let h = rank == 4 ? x.dims[2] : 1, w = rank == 4 ? x.dims[3] : 1
        let cn = cd[0], cc = cd[1]
        let chh = rank == 4 ? cd[2] : 1, cw = rank == 4 ? cd[3] : 1
        if chh == 1 && cw == 1 && cn == 1 && cc == ch {
            var data = [Float]()
            for _ in 0..<n { data += c.floats }
            return (TensorShape(n: n, h: 1, w: 1, c: ch), data)
        }
        // Full NHWC expansion: a constant as large as the activation, held to the limit of
        // folded constants before it is allocated (a 400-byte file asked for 1.6 GB here).
        let shape = TensorShape(n: n, h: h, w: w, c: ch)
        try op.check("the element count of the constant broadcast to \(x.dims)", shape.elementCount, limit: ONNXLimits.maxFoldedElements)
        var data = [Float](repeating: 0, count: shape.elementCount)
        for b in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    for k in 0..<ch {
                        let src = ((min(b, cn - 1) * cc + min(k, cc - 1)) * chh + min(y, chh - 1)) * cw + min(xx, cw - 1)
                        data[shape.index(b, y, xx, k)] = c.floats[src]
                    }
                }
            }
        }
        return (shape, data)
    }

    /// Folds a per-channel constant add into the bias of the conv/FC producing `x`, when
    /// that output is read only by this Add and is not a graph output.
    private func foldIntoBias(_ x: ImportedActivation, onnxName: String, shape: TensorShape, data: [Float], output: String) -> Bool {
        guard shape.h == 1, shape.w == 1, shape.n == 1, let p = producer[x.tensor],
            graph.tensors[x.tensor].name == onnxName, onnxConsumers[onnxName] == 1, x.flattenedFrom == nil
        else { return false }
        let c = graph.tensors[x.tensor].shape.c
        func add(_ bias: inout [Float]) {
            for k in 0..<c { bias[k] += data[shape.c == 1 ? 0 : k] }
        }
        switch graph.nodes[p].op {
        case .conv2D(var conv) where conv.clamp == .none:
            add(&conv.bias)
            graph.nodes[p].op = .conv2D(conv)
        case .fullyConnected(var fc) where fc.clamp == .none:
            add(&fc.bias)
            graph.nodes[p].op = .fullyConnected(fc)
        default:
            return false
        }
        graph.tensors[x.tensor].name = output
        values[output] = .activation(x)
        return true
    }
}

extension ImportContext {
    /// Min / Max of one activation and scalar constants (`Min(x, 6)`, `Max(x, 0)`: how some
    /// exporters write Relu6 and Relu) → `.activation(.clip)`; Relu and Relu6 ranges become
    /// `.relu` / `.relu6`. Several activations are not supported.
    func importMinMax(_ op: NodeContext) throws {
        var x: ImportedActivation?
        var bound: Float = op.opType == "Min" ? .infinity : -.infinity
        for name in op.node.inputs where !name.isEmpty {
            switch try value(name, op) {
            case .activation(let a):
                guard x == nil else { throw op.pattern("\(op.opType) of several activations (only an activation and scalars)") }
                x = a
            case .constant(let c):
                guard !c.floats.isEmpty, c.floats.allSatisfy({ $0 == c.floats[0] }) else {
                    throw op.unsupported("\(op.opType) with a non-scalar constant \(c.dims)")
                }
                bound = op.opType == "Min" ? min(bound, c.floats[0]) : max(bound, c.floats[0])
            default:
                _ = try activation(name, op)
            }
        }
        guard let x else { throw op.pattern("\(op.opType) without an activation input") }
        let kind: UnaryActivation
        if op.opType == "Max" && bound == 0 {
            kind = .relu
        } else {
            kind = op.opType == "Min" ? .clip(min: -.infinity, max: bound) : .clip(min: bound, max: .infinity)
        }
        try emitLike(x, op, .activation(kind), inputs: [x.tensor], output: try op.output(0), dims: x.dims)
    }

    /// PRelu `x >= 0 ? x : slope * x`. One slope (or all slopes equal) → `.leakyRelu`;
    /// per-channel slopes → `relu(x) + slope * min(x, 0)` (three nodes, exact in float).
    func importPRelu(_ op: NodeContext) throws {
        let x = try activation(try op.input(0), op)
        let slopeName = try op.input(1)
        let slope = try constant(slopeName, op)
        let output = try op.output(0)
        if let first = slope.floats.first, slope.floats.allSatisfy({ $0 == first }) {
            emit(op, .activation(.leakyRelu(alpha: first)), inputs: [x.tensor], output: output, dims: x.dims, flattenedFrom: x.flattenedFrom)
            return
        }
        let (shape, data) = try broadcastConstant(slope, to: x, op)
        let positive = emit(op, .activation(.relu), inputs: [x.tensor], output: output + "/relu", dims: x.dims)
        let negative = emit(op, .activation(.clip(min: -.infinity, max: 0)), inputs: [x.tensor], output: output + "/min0", dims: x.dims)
        let k = addConstantTensor(name: slopeName, shape: shape, data: data)
        let scaled = emit(op, .mul(.none), inputs: [negative.tensor, k], output: output + "/scaled", dims: x.dims)
        emit(op, .add(.none), inputs: [positive.tensor, scaled.tensor], output: output, dims: x.dims)
    }
}

extension ImportContext {
    /// Expand of an `[N, C, 1, 1]` (or `[N, C]`) activation over H and W that only Mul and
    /// Add read (`x * y.expand_as(x)` in squeeze-excite blocks, torch.onnx): the value stays
    /// `[N, C, 1, 1]`, since those ops broadcast it themselves.
    func importExpand(_ op: NodeContext) throws {
        let x = try activation(try op.input(0), op)
        let target = try constant(try op.input(1), op).integers.map { Int($0) }
        let output = try op.output(0)
        let readers = source.nodes.filter { $0.inputs.contains(output) }
        let rank = max(target.count, x.dims.count)
        let padded = [Int](repeating: 1, count: rank - x.dims.count) + x.dims
        let t = [Int](repeating: 1, count: rank - target.count) + target
        let onlyChannelsKept = x.flattenedFrom == nil && rank == 4 && padded[2] == 1 && padded[3] == 1
            && (t[0] == 1 || t[0] == padded[0]) && (t[1] == 1 || t[1] == padded[1])
        guard onlyChannelsKept, !readers.isEmpty, readers.allSatisfy({ $0.opType == "Mul" || $0.opType == "Add" }),
            !source.outputs.contains(where: { $0.name == output })
        else {
            throw op.pattern("Expand of \(x.dims) to \(target) (only [N, C, 1, 1] over H, W, read by Mul or Add)")
        }
        values[output] = .activation(ImportedActivation(tensor: x.tensor, dims: padded))
    }
}
