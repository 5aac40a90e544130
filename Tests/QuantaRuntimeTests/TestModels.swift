import Foundation
import QuantaCompiler
import QuantaKernels
import QuantaRuntime

/// Deterministic pseudo-random numbers (SplitMix64) for test data.
struct TestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func int8s(_ count: Int, _ range: ClosedRange<Int> = -128...127) -> [Int8] {
        (0..<count).map { _ in Int8(int(range)) }
    }

    mutating func int32s(_ count: Int, _ range: ClosedRange<Int>) -> [Int32] {
        (0..<count).map { _ in Int32(int(range)) }
    }
}

/// Q31 multiplier and shift of a positive real multiplier (TFLite's QuantizeMultiplier).
func testMultiplier(_ real: Double) -> (Int32, Int32) {
    var shift: Int32 = 0
    var q = real
    while q >= 1 { q /= 2; shift += 1 }
    while q < 0.5 { q *= 2; shift -= 1 }
    var m = Int64((q * Double(1 << 31)).rounded())
    if m == 1 << 31 { m /= 2; shift += 1 }
    return (Int32(m), shift)
}

enum TestModels {
    static func requantization(_ channels: Int, _ rng: inout TestRandom, clampMin: Int32 = -128) -> RequantizationConstants {
        var m: [Int32] = [], s: [Int32] = []
        for _ in 0..<channels {
            let (mm, ss) = testMultiplier(Double(rng.int(200...900)) / 100_000)
            m.append(mm)
            s.append(ss)
        }
        return RequantizationConstants(multipliers: m, shifts: s, clampMin: clampMin, clampMax: 127)
    }

    /// conv 3×3 → depthwise 3×3 stride 2 → pointwise 1×1 → lookup table → add (residual
    /// with the depthwise output) → global average pool → fully connected.
    static func small(seed: UInt64 = 1) -> QuantizedModel {
        var rng = TestRandom(seed: seed)
        var m = QuantizedModel()
        func tensor(_ name: String, _ shape: TensorShape, _ scale: Float, _ zp: Int32, _ layout: SourceLayout = .nhwc) -> Int {
            m.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: .init(scale: scale, zeroPoint: zp), sourceLayout: layout))
            return m.tensors.count - 1
        }
        let t0 = tensor("image", TensorShape(n: 1, h: 8, w: 8, c: 3), 0.05, -3, .nchw)
        let t1 = tensor("conv1", TensorShape(n: 1, h: 8, w: 8, c: 8), 0.04, -128)
        let t2 = tensor("dw", TensorShape(n: 1, h: 4, w: 4, c: 8), 0.03, -10)
        let t3 = tensor("pw", TensorShape(n: 1, h: 4, w: 4, c: 8), 0.06, 5)
        let t4 = tensor("hswish", TensorShape(n: 1, h: 4, w: 4, c: 8), 0.05, -20)
        let t5 = tensor("residual", TensorShape(n: 1, h: 4, w: 4, c: 8), 0.07, 2)
        let t6 = tensor("pool", TensorShape(n: 1, h: 1, w: 1, c: 8), 0.02, -1)
        let t7 = tensor("logits", TensorShape(n: 1, h: 1, w: 1, c: 5), 0.1, 3, .nc)
        m.inputs = [t0]
        m.outputs = [t7]

        let f1 = FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3)
        m.ops.append(QuantizedOp(name: "conv1", kind: .conv2D(
            parameters: Conv2DParameters(padding: .uniform(1)), filter: f1, weights: rng.int8s(f1.elementCount, -127...127),
            bias: rng.int32s(8, -2000...2000), requantization: requantization(8, &rng, clampMin: -128)), inputs: [t0], outputs: [t1]))
        let f2 = FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
        m.ops.append(QuantizedOp(name: "dw", kind: .conv2D(
            parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 8),
            filter: f2, weights: rng.int8s(f2.elementCount, -127...127), bias: rng.int32s(8, -500...500),
            requantization: requantization(8, &rng)), inputs: [t1], outputs: [t2]))
        let f3 = FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 8)
        m.ops.append(QuantizedOp(name: "pw", kind: .conv2D(
            parameters: Conv2DParameters(), filter: f3, weights: rng.int8s(f3.elementCount, -127...127), bias: [],
            requantization: requantization(1, &rng)), inputs: [t2], outputs: [t3]))
        m.ops.append(QuantizedOp(name: "hswish", kind: .lookupTable(rng.int8s(256)), inputs: [t3], outputs: [t4]))
        let (m1, s1) = testMultiplier(0.05 / (2 * 0.05))
        let (m2, s2) = testMultiplier(0.03 / (2 * 0.05))
        let (mo, so) = testMultiplier(2 * 0.05 / (Double(1 << 20) * 0.07))
        m.ops.append(QuantizedOp(name: "residual", kind: .add(AddQuantization(
            input1ZeroPoint: -20, input2ZeroPoint: -10, outputZeroPoint: 2, leftShift: 20, input1Multiplier: m1,
            input1Shift: s1, input2Multiplier: m2, input2Shift: s2, outputMultiplier: mo, outputShift: so)),
            inputs: [t4, t2], outputs: [t5]))
        let (gm, gs) = testMultiplier(0.07 / 0.02 / 16)
        m.ops.append(QuantizedOp(name: "pool", kind: .globalAveragePool(multiplier: gm, shift: gs), inputs: [t5], outputs: [t6]))
        m.ops.append(QuantizedOp(name: "fc", kind: .fullyConnected(
            outputCount: 5, inputCount: 8, weights: rng.int8s(40, -127...127), bias: rng.int32s(5, -1000...1000),
            requantization: requantization(5, &rng)), inputs: [t6], outputs: [t7]))
        return m
    }
}

extension TestModels {
    /// pad → max pool → average pool → concat → channel shuffle → slice → mul by a
    /// per-channel constant → transposed conv → reshape → softmax: every remaining kind.
    static func layoutOps(seed: UInt64 = 2) -> QuantizedModel {
        var rng = TestRandom(seed: seed)
        var m = QuantizedModel()
        let shared = QuantizationParameters(scale: 0.1, zeroPoint: 3)
        func tensor(_ name: String, _ shape: TensorShape, _ q: QuantizationParameters, data: [Int8]? = nil) -> Int {
            m.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: q, data: data))
            return m.tensors.count - 1
        }
        let t0 = tensor("in", TensorShape(n: 1, h: 6, w: 6, c: 4), shared)
        let t1 = tensor("padded", TensorShape(n: 1, h: 8, w: 8, c: 4), shared)
        let t2 = tensor("max", TensorShape(n: 1, h: 4, w: 4, c: 4), shared)
        let t3 = tensor("avg", TensorShape(n: 1, h: 4, w: 4, c: 4), shared)
        let t4 = tensor("cat", TensorShape(n: 1, h: 4, w: 4, c: 8), shared)
        let t5 = tensor("shuffled", TensorShape(n: 1, h: 4, w: 4, c: 8), shared)
        let t6 = tensor("slice", TensorShape(n: 1, h: 4, w: 4, c: 4), shared)
        let c = tensor("gate", TensorShape(n: 1, h: 1, w: 1, c: 4), QuantizationParameters(scale: 1.0 / 256, zeroPoint: -128), data: rng.int8s(4))
        let t7 = tensor("gated", TensorShape(n: 1, h: 4, w: 4, c: 4), QuantizationParameters(scale: 0.05, zeroPoint: -7))
        let t8 = tensor("up", TensorShape(n: 1, h: 8, w: 8, c: 2), QuantizationParameters(scale: 0.2, zeroPoint: 1))
        let t9 = tensor("flat", TensorShape(n: 1, h: 1, w: 1, c: 128), QuantizationParameters(scale: 0.2, zeroPoint: 1))
        let t10 = tensor("prob", TensorShape(n: 1, h: 1, w: 1, c: 128), QuantizationParameters(scale: 1.0 / 256, zeroPoint: -128))
        m.inputs = [t0]
        m.outputs = [t10]
        m.ops.append(QuantizedOp(name: "pad", kind: .pad(.uniform(1), value: 3), inputs: [t0], outputs: [t1]))
        m.ops.append(QuantizedOp(name: "max", kind: .maxPool(PoolParameters(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2), clampMin: -128, clampMax: 127), inputs: [t1], outputs: [t2]))
        m.ops.append(QuantizedOp(name: "avg", kind: .averagePool(PoolParameters(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .uniform(1)), clampMin: -100, clampMax: 100), inputs: [t2], outputs: [t3]))
        m.ops.append(QuantizedOp(name: "cat", kind: .concat, inputs: [t2, t3], outputs: [t4]))
        m.ops.append(QuantizedOp(name: "shuffle", kind: .channelShuffle(groups: 2), inputs: [t4], outputs: [t5]))
        m.ops.append(QuantizedOp(name: "slice", kind: .sliceChannels(start: 2, count: 4), inputs: [t5], outputs: [t6]))
        let (mm, ms) = testMultiplier(0.1 * (1.0 / 256) / 0.05)
        m.ops.append(QuantizedOp(name: "gate", kind: .mul(MulQuantization(input1ZeroPoint: 3, input2ZeroPoint: -128, outputZeroPoint: -7, multiplier: mm, shift: ms)), inputs: [t6, c], outputs: [t7]))
        let f = FilterShape(outputChannels: 2, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 4)
        m.ops.append(QuantizedOp(name: "up", kind: .transposeConv2D(
            strideH: 2, strideW: 2, padding: .uniform(1), outputPaddingH: 1, outputPaddingW: 1, filter: f,
            weights: rng.int8s(f.elementCount, -127...127), bias: rng.int32s(2, -300...300),
            requantization: requantization(2, &rng)), inputs: [t7], outputs: [t8]))
        m.ops.append(QuantizedOp(name: "flat", kind: .reshape, inputs: [t8], outputs: [t9]))
        let table = (0..<256).map { d in Int32((Foundation.exp(-Double(d) * 0.2) * 65536).rounded()) }
        m.ops.append(QuantizedOp(name: "softmax", kind: .softmax(expTable: table), inputs: [t9], outputs: [t10]))
        return m
    }

    /// Reflect pad → nearest upsampling 2×3 → bilinear resize to a non-integer size (tables
    /// from `ResizeTables`, half-pixel) → edge pad. All share one quantization.
    static func resizeOps(seed: UInt64 = 3) -> QuantizedModel {
        var m = QuantizedModel()
        let shared = QuantizationParameters(scale: 0.05, zeroPoint: -9)
        func tensor(_ name: String, _ shape: TensorShape) -> Int {
            m.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: shared, data: nil))
            return m.tensors.count - 1
        }
        let t0 = tensor("in", TensorShape(n: 1, h: 4, w: 5, c: 3))
        let t1 = tensor("reflected", TensorShape(n: 1, h: 6, w: 7, c: 3))
        let t2 = tensor("up", TensorShape(n: 1, h: 12, w: 21, c: 3))
        let t3 = tensor("bilinear", TensorShape(n: 1, h: 7, w: 30, c: 3))
        let t4 = tensor("edged", TensorShape(n: 1, h: 10, w: 31, c: 3))
        m.inputs = [t0]
        m.outputs = [t4]
        m.ops.append(QuantizedOp(name: "reflect", kind: .borderPad(Padding(top: 1, left: 2, bottom: 1, right: 0), mode: .reflect), inputs: [t0], outputs: [t1]))
        m.ops.append(QuantizedOp(name: "up", kind: .upsampleNearest(factorH: 2, factorW: 3), inputs: [t1], outputs: [t2]))
        m.ops.append(QuantizedOp(name: "bilinear", kind: .resizeBilinear(
            rows: ResizeTables.bilinear(.halfPixel, scale: 7.0 / 12, inputSize: 12, outputSize: 7),
            columns: ResizeTables.bilinear(.alignCorners, scale: 30.0 / 21, inputSize: 21, outputSize: 30)), inputs: [t2], outputs: [t3]))
        m.ops.append(QuantizedOp(name: "edge", kind: .borderPad(Padding(top: 3, left: 0, bottom: 0, right: 1), mode: .edge), inputs: [t3], outputs: [t4]))
        return m
    }

    /// Strided copies and LiteRT's float-table softmax: a transpose of H and W, a slice of
    /// every second row from the bottom up and columns 1... (steps -2 and 1), a rank-5
    /// channel-pair swap (a transpose of the two innermost axes of `[.., 3, 2]`), then the
    /// softmax and the log-softmax over the 6 channels (two outputs). Input and copies share one quantization.
    static func viewOps() -> QuantizedModel {
        var m = QuantizedModel()
        let shared = QuantizationParameters(scale: 0.07, zeroPoint: 5)
        func tensor(_ name: String, _ shape: TensorShape, _ q: QuantizationParameters = shared) -> Int {
            m.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: q, data: nil))
            return m.tensors.count - 1
        }
        let t0 = tensor("in", TensorShape(n: 1, h: 4, w: 5, c: 6))
        let t1 = tensor("transposed", TensorShape(n: 1, h: 5, w: 4, c: 6))
        let t2 = tensor("sliced", TensorShape(n: 1, h: 3, w: 3, c: 6))
        let t3 = tensor("swapped", TensorShape(n: 1, h: 3, w: 3, c: 6))
        let t4 = tensor("softmax", TensorShape(n: 1, h: 3, w: 3, c: 6), QuantizationParameters(scale: 1.0 / 256, zeroPoint: -128))
        let t5 = tensor("log_softmax", TensorShape(n: 1, h: 3, w: 3, c: 6), QuantizationParameters(scale: 0.06, zeroPoint: 120))
        m.inputs = [t0]
        m.outputs = [t4, t5]
        m.ops.append(QuantizedOp(name: "transpose", kind: .stridedCopy(.transpose(shape: [1, 4, 5, 6], permutation: [0, 2, 1, 3])),
                                 inputs: [t0], outputs: [t1]))
        m.ops.append(QuantizedOp(name: "slice", kind: .stridedCopy(.slice(shape: [1, 5, 4, 6], start: [0, 4, 1, 0], step: [1, -2, 1, 1], count: [1, 3, 3, 6])),
                                 inputs: [t1], outputs: [t2]))
        m.ops.append(QuantizedOp(name: "swap", kind: .stridedCopy(.transpose(shape: [1, 3, 3, 3, 2], permutation: [0, 1, 2, 4, 3])),
                                 inputs: [t2], outputs: [t3]))
        let table = (0...255).map { d in Foundation.expf(-0.07 * Float(d)) }
        m.ops.append(QuantizedOp(name: "softmax", kind: .softmaxFloatTable(table: table, outputScale: 1.0 / 256, outputZeroPoint: -128),
                                 inputs: [t3], outputs: [t4]))
        m.ops.append(QuantizedOp(name: "log_softmax", kind: .logSoftmax(table: table, inputScale: 0.07, outputScale: 0.06, outputZeroPoint: 120),
                                 inputs: [t3], outputs: [t5]))
        return m
    }
}
