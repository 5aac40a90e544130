/// Affine quantization of one tensor: `real = scale * (q - zeroPoint)`.
@frozen
public struct QuantizationParameters: Equatable, Hashable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32

    @inlinable
    public init(scale: Float, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }
}

/// How an int32 accumulator becomes an int8 output, per output channel:
///
///     out[c] = clamp(outputZeroPoint + multiplyByQuantizedMultiplier(acc[c], multipliers[c], shifts[c]),
///                    clampMin, clampMax)
///
/// `multipliers` and `shifts` point at `channelCount` entries each (`channelCount == 1`
/// means one multiplier for every channel). Shifts follow TFLite's convention: positive
/// is a left shift, negative a right shift. `clampMin...clampMax` is within -128...127 and
/// carries the fused activation (ReLU: `outputZeroPoint...127`, ReLU6: up to the
/// quantized 6).
@frozen
public struct Requantization {
    public var multipliers: UnsafePointer<Int32>
    public var shifts: UnsafePointer<Int32>
    public var channelCount: Int
    public var outputZeroPoint: Int32
    public var clampMin: Int32
    public var clampMax: Int32

    @inlinable
    public init(
        multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>, channelCount: Int,
        outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127
    ) {
        self.multipliers = multipliers
        self.shifts = shifts
        self.channelCount = channelCount
        self.outputZeroPoint = outputZeroPoint
        self.clampMin = clampMin
        self.clampMax = clampMax
    }

    @inlinable
    public func multiplier(_ channel: Int) -> Int32 { multipliers[channelCount == 1 ? 0 : channel] }

    @inlinable
    public func shift(_ channel: Int) -> Int32 { shifts[channelCount == 1 ? 0 : channel] }
}

/// A float activation fused into the producing op, applied as a clamp.
@frozen
public struct FloatClamp: Equatable, Hashable, Sendable {
    public var min: Float
    public var max: Float

    @inlinable
    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    public static let none = FloatClamp(min: -Float.infinity, max: Float.infinity)
    public static let relu = FloatClamp(min: 0, max: Float.infinity)
    public static let relu6 = FloatClamp(min: 0, max: 6)

    @inlinable
    public func apply(_ x: Float) -> Float { Swift.min(Swift.max(x, min), max) }
}

/// Constants of TFLite's int8 elementwise add (`reference_integer_ops::Add`):
///
///     a' = MBQMSmallerThanOne((a - zpA) << leftShift, m1, s1)
///     b' = MBQMSmallerThanOne((b - zpB) << leftShift, m2, s2)
///     out = clamp(zpOut + MBQMSmallerThanOne(a' + b', mOut, sOut), clampMin, clampMax)
///
/// with `leftShift` = 20 and the multipliers chosen from `2 * max(scaleA, scaleB)`.
@frozen
public struct AddQuantization: Equatable, Hashable, Sendable {
    public var input1ZeroPoint: Int32
    public var input2ZeroPoint: Int32
    public var outputZeroPoint: Int32
    public var leftShift: Int32
    public var input1Multiplier: Int32
    public var input1Shift: Int32
    public var input2Multiplier: Int32
    public var input2Shift: Int32
    public var outputMultiplier: Int32
    public var outputShift: Int32
    public var clampMin: Int32
    public var clampMax: Int32

    @inlinable
    public init(
        input1ZeroPoint: Int32, input2ZeroPoint: Int32, outputZeroPoint: Int32, leftShift: Int32,
        input1Multiplier: Int32, input1Shift: Int32, input2Multiplier: Int32, input2Shift: Int32,
        outputMultiplier: Int32, outputShift: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127
    ) {
        self.input1ZeroPoint = input1ZeroPoint
        self.input2ZeroPoint = input2ZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.leftShift = leftShift
        self.input1Multiplier = input1Multiplier
        self.input1Shift = input1Shift
        self.input2Multiplier = input2Multiplier
        self.input2Shift = input2Shift
        self.outputMultiplier = outputMultiplier
        self.outputShift = outputShift
        self.clampMin = clampMin
        self.clampMax = clampMax
    }
}

/// Constants of TFLite's int8 elementwise mul:
/// `out = clamp(zpOut + MBQM((a - zpA) * (b - zpB), multiplier, shift), clampMin, clampMax)`
/// with the real multiplier `scaleA * scaleB / scaleOut`.
@frozen
public struct MulQuantization: Equatable, Hashable, Sendable {
    public var input1ZeroPoint: Int32
    public var input2ZeroPoint: Int32
    public var outputZeroPoint: Int32
    public var multiplier: Int32
    public var shift: Int32
    public var clampMin: Int32
    public var clampMax: Int32

    @inlinable
    public init(
        input1ZeroPoint: Int32, input2ZeroPoint: Int32, outputZeroPoint: Int32, multiplier: Int32,
        shift: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127
    ) {
        self.input1ZeroPoint = input1ZeroPoint
        self.input2ZeroPoint = input2ZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.multiplier = multiplier
        self.shift = shift
        self.clampMin = clampMin
        self.clampMax = clampMax
    }
}
