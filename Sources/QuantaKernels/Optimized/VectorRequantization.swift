/// Portable SIMD helpers shared by the optimized kernels: widening conversions written
/// as element loops (LLVM turns them into `vpmovsxbw`/`vpmovsxwd` on x86 and
/// `sxtl`/`saddw` on aarch64, where Swift's generic `init(truncatingIfNeeded:)` on SIMD
/// types is left as an out-of-line call), and TFLite's requantization on 8 lanes.
@usableFromInline
enum VectorMath {
    @inline(__always) @usableFromInline
    static func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
        var r = SIMD16<Int16>()
        for i in 0..<16 { r[i] = Int16(v[i]) }
        return r
    }

    @inline(__always) @usableFromInline
    static func widen(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
        var r = SIMD16<Int32>()
        for i in 0..<16 { r[i] = Int32(v[i]) }
        return r
    }

    @inline(__always) @usableFromInline
    static func widen8to16(_ v: SIMD8<Int8>) -> SIMD8<Int16> {
        var r = SIMD8<Int16>()
        for i in 0..<8 { r[i] = Int16(v[i]) }
        return r
    }

    @inline(__always) @usableFromInline
    static func widen8(_ v: SIMD8<Int8>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = Int32(v[i]) }
        return r
    }

    /// Lanes 0..<8 of a widened int16 vector as int32.
    @inline(__always) @usableFromInline
    static func widenLow(_ v: SIMD16<Int16>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = Int32(v[i]) }
        return r
    }

    /// Lanes 8..<16 of a widened int16 vector as int32.
    @inline(__always) @usableFromInline
    static func widenHigh(_ v: SIMD16<Int16>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = Int32(v[i + 8]) }
        return r
    }

    /// Lane-wise maximum (an element loop: the generic `pointwiseMax` is not inlined).
    @inline(__always) @usableFromInline
    static func max(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = Swift.max(a[i], b[i]) }
        return r
    }

    /// Lane-wise minimum.
    @inline(__always) @usableFromInline
    static func min(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = Swift.min(a[i], b[i]) }
        return r
    }

    /// `r[i] = v[2i] + v[2i+1]` (wrapping).
    @inline(__always) @usableFromInline
    static func pairwiseSum(_ v: SIMD16<Int32>) -> SIMD8<Int32> {
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = v[2 * i] &+ v[2 * i + 1] }
        return r
    }

    /// 16 bytes from `p`, unaligned; when `count < 16` only `count` bytes are read and the
    /// other lanes are 0.
    @inline(__always) @usableFromInline
    static func load16(_ p: UnsafePointer<Int8>, count: Int) -> SIMD16<Int8> {
        if count >= 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self) }
        var r = SIMD16<Int8>()
        for i in 0..<count { r[i] = p[i] }
        return r
    }

    /// Writes the first `count` (at most 8) lanes of `v` as bytes; lanes are within -128...127.
    @inline(__always) @usableFromInline
    static func store8(_ v: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        var b = SIMD8<Int8>()
        for i in 0..<8 { b[i] = Int8(truncatingIfNeeded: v[i]) }
        if count >= 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: b, as: SIMD8<Int8>.self)
        } else {
            for i in 0..<count { p[i] = b[i] }
        }
    }
}

/// TFLite's per-channel output stage for 8 consecutive channels, prepared once per block of
/// channels and applied to many accumulators:
///
///     x = acc << left                                   (left = max(shift, 0), wrapping)
///     r = SRDHM(x, M) = (x * M + 2^30) >> 31            (64-bit, floor; Int32.min² saturates)
///     y = RDBPOT(r, right) = (r >> right) + ((r & mask) > (mask >> 1) + (r < 0) ? 1 : 0)
///     out = clamp(y, clampMin - zp, clampMax - zp) + zp
///
/// `(x*M + 2^30) >> 31` with an arithmetic (flooring) shift equals gemmlowp's
/// `(x*M + nudge) / 2^31` with the sign-dependent nudge and truncating division for every
/// product (for `x*M < 0`, `trunc((p + 1 - 2^30) / 2^31) = floor((p + 2^30) / 2^31)`), so
/// the result is bit-exact with `FixedPoint.multiplyByQuantizedMultiplier`. Clamping before
/// adding the zero point equals the reference's clamp of the 64-bit sum.
@frozen @usableFromInline
struct RequantizationBlock8 {
    @usableFromInline var multiplier: SIMD8<Int32>
    @usableFromInline var left: SIMD8<Int32>
    @usableFromInline var right: SIMD8<Int32>
    @usableFromInline var mask: SIMD8<Int32>
    @usableFromInline var halfMask: SIMD8<Int32>
    @usableFromInline var low: SIMD8<Int32>
    @usableFromInline var high: SIMD8<Int32>
    @usableFromInline var zeroPoint: SIMD8<Int32>
    /// Whether a lane's multiplier is `Int32.min`, the only value for which SRDHM can
    /// saturate (never for a quantizer's multipliers, which are in 2^30 ..< 2^31).
    @usableFromInline var maySaturate: Bool

    /// Parameters of channels `first + i * channelStride` for lane `i < count`; lanes at or
    /// past `count` get multiplier 0 and shift 0 (their outputs are never stored).
    /// - Precondition: every shift within -31...31.
    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int, channelStride: Int = 1) {
        var m = SIMD8<Int32>()
        var s = SIMD8<Int32>()
        if r.channelCount == 1 {
            m = SIMD8(repeating: r.multipliers[0])
            s = SIMD8(repeating: r.shifts[0])
        } else if count >= 8 && channelStride == 1 {
            m = UnsafeRawPointer(r.multipliers + first).loadUnaligned(as: SIMD8<Int32>.self)
            s = UnsafeRawPointer(r.shifts + first).loadUnaligned(as: SIMD8<Int32>.self)
        } else {
            for i in 0..<Swift.max(0, Swift.min(count, 8)) {
                m[i] = r.multipliers[first + i * channelStride]
                s[i] = r.shifts[first + i * channelStride]
            }
        }
        // (s + 31) | (31 - s) is negative exactly when s is outside -31...31. Element loops
        // throughout: Swift's SIMD comparisons and masks compile to lane-by-lane stores here.
        var outside: Int32 = 0
        for i in 0..<8 { outside |= (s[i] &+ 31) | (31 &- s[i]) }
        precondition(outside >= 0, "requantization: shift outside -31...31")
        let zero = SIMD8<Int32>()
        multiplier = m
        left = VectorMath.max(s, zero)
        right = VectorMath.max(zero &- s, zero)
        mask = (SIMD8<Int32>(repeating: 1) &<< right) &- 1
        halfMask = mask &>> 1
        zeroPoint = SIMD8(repeating: r.outputZeroPoint)
        var minimum: Int32 = 0
        for i in 0..<8 { minimum |= m[i] == Int32.min ? 1 : 0 }
        maySaturate = minimum != 0
        low = SIMD8(repeating: r.clampMin) &- zeroPoint
        high = SIMD8(repeating: r.clampMax) &- zeroPoint
    }

    /// The int8 outputs (as int32 lanes in clampMin...clampMax) of 8 accumulators.
    @inline(__always) @usableFromInline
    func apply(_ acc: SIMD8<Int32>) -> SIMD8<Int32> {
        let x = acc &<< left
        var r = SIMD8<Int32>()
        for i in 0..<8 {
            let p = Int64(x[i]) &* Int64(multiplier[i]) &+ (1 << 30)
            r[i] = Int32(truncatingIfNeeded: p &>> 31)
        }
        // Branch-free lane selects (SIMD comparisons and masks compile to lane-by-lane
        // stores): `t == 0` only when x and M are both Int32.min, whose 2^31 wrapped to
        // Int32.min and saturates to Int32.max (xor with all ones).
        if maySaturate {
            let minimum = SIMD8<Int32>(repeating: Int32.min)
            let t = (x ^ minimum) | (multiplier ^ minimum)
            r ^= ~((t | (SIMD8<Int32>() &- t)) &>> 31)
        }
        // remainder and threshold are in 0..<2^31, so threshold - remainder < 0 exactly
        // when remainder > threshold, and its sign is the +1 of the rounding.
        let remainder = r & mask
        let threshold = halfMask &- (r &>> 31)
        let y = (r &>> right) &- ((threshold &- remainder) &>> 31)
        return VectorMath.min(VectorMath.max(y, low), high) &+ zeroPoint
    }
}
