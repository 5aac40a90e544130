import QuantaKernels
@testable import QuantaCompiler

/// A quantized MobileNetV2 with torchvision's layer shapes (Tools/models/make_mobilenet_family.py,
/// `mobilenet_v2`) and seeded random constants: for planning tests that need the real
/// network's tensor sizes but not its accuracy. 10 classes by default (the classifier is never the peak); ReLU6 as clamps.
enum MobileNetV2Shapes {
    static func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
        var n = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
        if Double(n) < 0.9 * v { n += divisor }
        return n
    }

    static func model(width: Double, resolution: Int, classes: Int = 10, seed: UInt64 = 7) -> QuantizedModel {
        var g = TestRandom(seed: seed)
        var m = QuantizedModel()
        func tensor(_ name: String, _ shape: TensorShape) -> Int {
            let q = QuantizationParameters(scale: Float.random(in: 0.01...0.1, using: &g), zeroPoint: Int32.random(in: -128...(-100), using: &g))
            m.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: q))
            return m.tensors.count - 1
        }
        func requant(_ channels: Int) -> RequantizationConstants {
            let q = FixedPoint.quantizeMultiplier(0.001 * Double.random(in: 0.5...2, using: &g))
            return RequantizationConstants(
                multipliers: [Int32](repeating: q.multiplier, count: channels), shifts: [Int32](repeating: q.shift, count: channels),
                clampMin: -128, clampMax: 100)
        }
        func conv(_ name: String, _ x: Int, cout: Int, k: Int, stride: Int = 1, depthwise: Bool = false) -> Int {
            let s = m.tensors[x].shape
            let pad = k / 2
            let p = Conv2DParameters(strideH: stride, strideW: stride, padding: .uniform(pad), groups: depthwise ? s.c : 1)
            let f = FilterShape(outputChannels: cout, kernelH: k, kernelW: k, inputChannelsPerGroup: depthwise ? 1 : s.c)
            let y = tensor(name + ".out", p.outputShape(input: s, filter: f))
            m.ops.append(QuantizedOp(
                name: name,
                kind: .conv2D(
                    parameters: p, filter: f, weights: (0..<f.elementCount).map { _ in Int8.random(in: -20...20, using: &g) },
                    bias: (0..<cout).map { _ in Int32.random(in: -500...500, using: &g) }, requantization: requant(cout)),
                inputs: [x], outputs: [y]))
            return y
        }
        let input = tensor("input", TensorShape(h: resolution, w: resolution, c: 3))
        m.inputs = [input]
        var cin = makeDivisible(32 * width)
        var x = conv("features.0", input, cout: cin, k: 3, stride: 2)
        var index = 1
        for (t, c, n, s) in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
            let cout = makeDivisible(Double(c) * width)
            for i in 0..<n {
                let stride = i == 0 ? s : 1
                let hidden = cin * t
                var y = x
                if t != 1 { y = conv("features.\(index).expand", y, cout: hidden, k: 1) }
                y = conv("features.\(index).dw", y, cout: hidden, k: 3, stride: stride, depthwise: true)
                y = conv("features.\(index).project", y, cout: cout, k: 1)
                if stride == 1 && cin == cout {
                    let out = tensor("features.\(index).add.out", m.tensors[y].shape)
                    let q = AddQuantization(
                        input1ZeroPoint: m.tensors[x].quantization.zeroPoint, input2ZeroPoint: m.tensors[y].quantization.zeroPoint,
                        outputZeroPoint: m.tensors[out].quantization.zeroPoint, leftShift: 20, input1Multiplier: 1 << 30,
                        input1Shift: -1, input2Multiplier: 1 << 30, input2Shift: -1, outputMultiplier: 1 << 30, outputShift: -18)
                    m.ops.append(QuantizedOp(name: "features.\(index).add", kind: .add(q), inputs: [x, y], outputs: [out]))
                    y = out
                }
                x = y
                cin = cout
                index += 1
            }
        }
        x = conv("features.\(index)", x, cout: makeDivisible(1280 * max(1, width)), k: 1)
        let pooled = tensor("pool.out", TensorShape(h: 1, w: 1, c: m.tensors[x].shape.c))
        m.ops.append(QuantizedOp(name: "pool", kind: .globalAveragePool(multiplier: 1 << 30, shift: 0), inputs: [x], outputs: [pooled]))
        let logits = tensor("logits", TensorShape(h: 1, w: 1, c: classes))
        let k = m.tensors[pooled].shape.c
        m.ops.append(QuantizedOp(
            name: "classifier",
            kind: .fullyConnected(
                outputCount: classes, inputCount: k, weights: (0..<(classes * k)).map { _ in Int8.random(in: -20...20, using: &g) },
                bias: [Int32](repeating: 0, count: classes), requantization: requant(classes)),
            inputs: [pooled], outputs: [logits]))
        m.outputs = [logits]
        return m
    }
}

