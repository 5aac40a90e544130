import Foundation
import QuantaKernels

/// ADD and MUL with TFLite's constants, and the one-input int8 operators as 256-entry
/// tables: each entry is what TFLite's reference kernel computes for that input byte
/// (`TFLiteActivationTable`), so a table is exact by construction.
extension TFLiteConversion {
    mutating func binary(_ op: TFLiteOperator, code: Int32, name: String) throws {
        // AddOptions (11), MulOptions (21), SubOptions (28): fused activation at field 0.
        let isSub = code == TFLiteOperatorCode.sub
        let options = try self.options(op, type: code == TFLiteOperatorCode.add ? 11 : isSub ? 28 : 21, name: name)
        let x = try input(op, 0, name: name), y = try input(op, 1, name: name)
        let (a, b, shape) = try binaryOperands(
            (x, model.tensors[x].shape), (y, model.tensors[y].shape), commutes: !isSub, name: name)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], shape, op: name)
        let qa = model.tensors[a].quantization, qb = model.tensors[b].quantization, qo = model.tensors[output].quantization
        let (lo, hi) = try activationRange(try options?.i8(0) ?? 0, output: qo, op: name)
        let kind: QuantizedOpKind
        if code == TFLiteOperatorCode.add || isSub {
            var q = try ElementwiseQuantization.add(qa, qb, output: qo, clamp: .none, node: name)
            (q.clampMin, q.clampMax) = (lo, hi)
            // SUB: TFLite's add with the second operand's multiplier negated (the scaled
            // terms round half away from zero, so −MBQM(x, m) = MBQM(x, −m)).
            if isSub { q.input2Multiplier = -q.input2Multiplier }
            kind = .add(q)
        } else {
            var q = try ElementwiseQuantization.mul(qa, qb, output: qo, clamp: .none, node: name)
            (q.clampMin, q.clampMax) = (lo, hi)
            kind = .mul(q)
        }
        append(kind, inputs: [a, b], output: output, name: name)
    }

    mutating func unary(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], model.tensors[input].shape, op: name)
        let qi = model.tensors[input].quantization, qo = model.tensors[output].quantization
        let table: [Int8]
        switch code {
        case TFLiteOperatorCode.hardSwish: table = try TFLiteActivationTable.hardSwish(input: qi, output: qo, op: name)
        case TFLiteOperatorCode.relu: table = try TFLiteActivationTable.relu(input: qi, output: qo, min: 0, max: .infinity, op: name)
        case TFLiteOperatorCode.relu6: table = try TFLiteActivationTable.relu(input: qi, output: qo, min: 0, max: 6, op: name)
        case TFLiteOperatorCode.reluN1To1: table = try TFLiteActivationTable.relu(input: qi, output: qo, min: -1, max: 1, op: name)
        case TFLiteOperatorCode.relu0To1: table = try TFLiteActivationTable.relu(input: qi, output: qo, min: 0, max: 1, op: name)
        case TFLiteOperatorCode.logistic:
            table = TFLiteActivationTable.float(input: qi, output: qo) { 1 / (1 + Foundation.exp(-$0)) }
        case TFLiteOperatorCode.tanh:
            table = TFLiteActivationTable.float(input: qi, output: qo) { Foundation.tanh($0) }
        case TFLiteOperatorCode.leakyRelu:
            // LeakyReluOptions (union type 75): alpha at field 0.
            let alpha = try self.options(op, type: 75, name: name)?.f32(0) ?? 0
            table = try TFLiteActivationTable.leakyRelu(input: qi, output: qo, alpha: alpha, op: name)
        default:  // QUANTIZE int8 → int8: a requantization.
            table = try TFLiteActivationTable.requantize(input: qi, output: qo, op: name)
        }
        append(.lookupTable(table), inputs: [input], output: output, name: name)
    }

    /// SOFTMAX over the last axis, int8 → int8, as LiteRT's x86 build runs it (its reference
    /// resolver too): `PopulateSoftmaxLookupTable`'s `table[d] = expf((-inputScale·β)·d)`
    /// in single precision, then `Int8Reference.softmaxFloatTable` with the output's scale
    /// and zero point.
    mutating func softmax(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], model.tensors[input].shape, op: name)
        // SoftmaxOptions (union type 9): beta at field 0.
        let beta = try self.options(op, type: 9, name: name)?.f32(0, default: 1) ?? 1
        let scale: Float = -model.tensors[input].quantization.scale * beta
        guard scale.isFinite, scale < 0 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "softmax beta \(beta) (it must be positive and finite)")
        }
        let table = (0...255).map { d in Foundation.expf(scale * Float(d)) }
        let q = model.tensors[output].quantization
        guard q.scale.isNormal else {
            throw TFLiteImportError.unsupportedQuantization(tensor: model.tensors[output].name, detail: "softmax output scale \(q.scale)")
        }
        append(.softmaxFloatTable(table: table, outputScale: q.scale, outputZeroPoint: q.zeroPoint), inputs: [input], output: output, name: name)
    }
}

/// The int8 → int8 tables of TFLite's one-input reference kernels: `table[q + 128]` is
/// the kernel's output for input byte `q`, computed with the kernel's own integer steps
/// and the multipliers its `Prepare` derives (float or double as TFLite has them).
public enum TFLiteActivationTable {
    /// `reference_ops::HardSwish` with `HardSwishPrepare`'s int16 multipliers.
    public static func hardSwish(input: QuantizationParameters, output: QuantizationParameters, op: String) throws -> [Int8] {
        let hiresInputScale: Float = (1.0 / 128.0) * input.scale
        let reluishScale: Float = 3.0 / 32768.0
        let outputMultiplier = hiresInputScale / output.scale
        let (om32, outputExponent) = FixedPoint.quantizeMultiplier(Double(outputMultiplier))
        guard outputExponent <= 0 else {
            throw TFLiteImportError.unsupportedForm(op: op, detail: "hard-swish output multiplier \(outputMultiplier) ≥ 1 (TFLite refuses it too)")
        }
        let om16 = downScaleToInt16(om32)
        let (rm32, reluishExponent) = FixedPoint.quantizeMultiplier(Double(hiresInputScale / reluishScale))
        let rm16 = downScaleToInt16(rm32)
        return (-128...127).map { q in
            let inputValue = Int16(truncatingIfNeeded: q - Int(input.zeroPoint))
            let hires = Int16(truncatingIfNeeded: Int32(inputValue) * 128)
            let preshiftOutput = roundingDoublingHighMul16(hires, om16)
            var reluish = hires
            if reluishExponent > 0 { reluish = saturatingLeftShift16(reluish, Int(reluishExponent) - 1) }
            reluish = roundingDoublingHighMul16(reluish, rm16)
            if reluishExponent > 0 { reluish = saturatingLeftShift16(reluish, 1) }
            if reluishExponent < 0 { reluish = roundingDivideByPOT16(reluish, Int(-reluishExponent)) }
            reluish = Int16((Int32(reluish) + (1 << 15)) >> 1)
            let preshiftValue = doublingHighMul16(reluish, preshiftOutput)
            var value = roundingDivideByPOT16(preshiftValue, Int(-outputExponent))
            value = Int16(truncatingIfNeeded: Int32(value) + output.zeroPoint)
            return Int8(max(-128, min(127, value)))
        }
    }

    /// `PopulateLookupTable` (LOGISTIC, TANH): `x = inScale · (q − zpIn)` in float,
    /// `y = transform(x)` in float (`expf`, `tanhf`), `round(y · (1 / outScale)) + zpOut`
    /// (half away from zero), clamped. LiteRT's reference kernels read the same table.
    public static func float(input: QuantizationParameters, output: QuantizationParameters, _ transform: (Float) -> Float) -> [Int8] {
        let inverseScale: Float = 1 / output.scale
        return (-128...127).map { q in
            let x = input.scale * Float(Int32(q) - input.zeroPoint)
            let r = (transform(x) * inverseScale).rounded(.toNearestOrAwayFromZero)
            guard r.isFinite else { return r > 0 ? 127 : -128 }
            return Int8(Swift.max(-128, Swift.min(127, Double(r) + Double(output.zeroPoint))))
        }
    }

    /// `QuantizedReluX`: `zpOut + MultiplyByQuantizedMultiplier(q − zpIn, M)` with
    /// `M = QuantizeMultiplier(inScale / outScale)` (float division, as `ReluPrepare`),
    /// clamped to `[zpOut + round(min / outScale), zpOut + round(max / outScale)]` within
    /// int8 (`Quantizer.quantize` of the bounds; an infinite bound is 127).
    public static func relu(input: QuantizationParameters, output: QuantizationParameters, min lower: Float, max upper: Float, op: String) throws -> [Int8] {
        let (m, s) = try WeightQuantization.multiplier(Double(input.scale / output.scale), node: op, what: "relu")
        let lo = Int32(Quantizer.quantize(lower, output)), hi = Int32(Quantizer.quantize(upper, output))
        return (-128...127).map { q in
            let v = output.zeroPoint + FixedPoint.multiplyByQuantizedMultiplier(Int32(q) - input.zeroPoint, m, s)
            return Int8(Swift.max(lo, Swift.min(hi, v)))
        }
    }

    /// `QuantizeLeakyRelu`: the identity multiplier `inScale / outScale` for q ≥ zpIn, the
    /// alpha multiplier `inScale · alpha / outScale` (float, as `LeakyReluPrepare`) below.
    public static func leakyRelu(input: QuantizationParameters, output: QuantizationParameters, alpha: Float, op: String) throws -> [Int8] {
        guard alpha.isFinite, alpha >= 0 else {
            throw TFLiteImportError.unsupportedForm(op: op, detail: "leaky relu alpha \(alpha) (negative multipliers are not run)")
        }
        let (mi, si) = try WeightQuantization.multiplier(Double(input.scale / output.scale), node: op, what: "leaky relu identity")
        let (ma, sa) = try WeightQuantization.multiplier(Double(input.scale * alpha / output.scale), node: op, what: "leaky relu alpha")
        return (-128...127).map { q in
            let x = Int32(q) - input.zeroPoint
            let v = output.zeroPoint + (x >= 0 ? FixedPoint.multiplyByQuantizedMultiplier(x, mi, si) : FixedPoint.multiplyByQuantizedMultiplier(x, ma, sa))
            return Int8(Swift.max(-128, Swift.min(127, v)))
        }
    }

    /// QUANTIZE int8 → int8 (`Requantize`): `zpOut + MBQM(q − zpIn, QuantizeMultiplier(double(inScale) / double(outScale)))`.
    public static func requantize(input: QuantizationParameters, output: QuantizationParameters, op: String) throws -> [Int8] {
        let (m, s) = try WeightQuantization.multiplier(Double(input.scale) / Double(output.scale), node: op, what: "requantize")
        return (-128...127).map { q in
            let v = output.zeroPoint + FixedPoint.multiplyByQuantizedMultiplier(Int32(q) - input.zeroPoint, m, s)
            return Int8(Swift.max(-128, Swift.min(127, v)))
        }
    }

    // MARK: gemmlowp's int16 fixed-point steps, as TFLite's hard-swish uses them

    /// `DownScaleInt32ToInt16Multiplier`: `(m + 2^15) >> 16`, saturating at 32767.
    static func downScaleToInt16(_ m: Int32) -> Int16 {
        if m >= Int32.max - (1 << 15) { return Int16.max }
        return Int16((m + (1 << 15)) >> 16)
    }

    /// `SaturatingRoundingDoublingHighMul` on int16: `(a·b + nudge) / 2^15` (C division,
    /// toward zero), nudge `2^14` or `1 − 2^14` by the product's sign; −2^15·−2^15 saturates.
    static func roundingDoublingHighMul16(_ a: Int16, _ b: Int16) -> Int16 {
        if a == b && a == Int16.min { return Int16.max }
        let ab = Int32(a) * Int32(b)
        let nudge: Int32 = ab >= 0 ? (1 << 14) : (1 - (1 << 14))
        return Int16(truncatingIfNeeded: (ab + nudge) / (1 << 15))
    }

    /// `SaturatingDoublingHighMul` (hard_swish.h): `a·b / 2^15` toward zero, without rounding.
    static func doublingHighMul16(_ a: Int16, _ b: Int16) -> Int16 {
        if a == b && a == Int16.min { return Int16.max }
        return Int16(truncatingIfNeeded: (Int32(a) * Int32(b)) / (1 << 15))
    }

    /// `RoundingDivideByPOT` on int16: round half away from zero.
    static func roundingDivideByPOT16(_ x: Int16, _ exponent: Int) -> Int16 {
        let mask = Int32((1 << exponent) - 1)
        let v = Int32(x)
        let remainder = v & mask
        let threshold = (mask >> 1) + (v < 0 ? 1 : 0)
        return Int16(truncatingIfNeeded: (v >> Int32(exponent)) + (remainder > threshold ? 1 : 0))
    }

    /// `SaturatingLeftShift` (hard_swish.h): `value · 2^amount` saturated to int16.
    static func saturatingLeftShift16(_ value: Int16, _ amount: Int) -> Int16 {
        let r = Int64(value) * (Int64(1) << Int64(amount))
        return Int16(Swift.max(Int64(Int16.min), Swift.min(Int64(Int16.max), r)))
    }
}
