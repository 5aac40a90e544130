extension Int8Reference {
    /// Int8 softmax over the last axis, with a 256-entry exponential table computed at
    /// quantization time (`QuantizedOpKind.softmax(expTable:)`):
    ///
    ///     table[d] = round(exp(-d * inputScale) * 65536)       for d in 0...255   (Q16)
    ///
    /// For each row of `channels` values:
    ///
    ///     m = max_j in[j];   d_j = m - in[j]  (in 0...255)
    ///     sum = Σ_j table[d_j]                                           // Int64
    ///     out[j] = clamp(roundHalfUp(table[d_j] * 256 / sum) - 128, -128, 127)
    ///            = clamp((2 * table[d_j] * 256 + sum) / (2 * sum) - 128, -128, 127)  // Int64, all terms >= 0
    ///
    /// The output is in scale 1/256, zero point -128: `out + 128` is the probability in
    /// 1/256ths (a certain class, 256/256, clamps to 127, i.e. 255/256). Each output is
    /// within half a unit of the exact softmax of the table values, so a row's
    /// `out + 128` sum to 256 within `channels / 2` (before the clamp), and the output is
    /// monotonic in the input within a row. The result depends only on the differences to
    /// the row maximum, so it is independent of the input zero point.
    ///
    /// This is Quanta's own formulation (not TFLite's gemmlowp exp), exact in integers and
    /// therefore identical on every architecture.
    ///
    /// - Precondition: `table[0] > 0`, all entries `>= 0` and `<= 2^24`; `channels >= 1`.
    ///   `output` may alias `input` (each row is read fully before it is written).
    public static func softmax(
        input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, rows: Int, channels: Int,
        expTable: UnsafePointer<Int32>
    ) {
        precondition(rows >= 0 && channels >= 1, "softmax: empty rows")
        precondition(expTable[0] > 0, "softmax: table[0] must be positive")
        for r in 0..<rows {
            let row = input + r * channels
            let out = output + r * channels
            var rowMax = row[0]
            for j in 1..<channels { rowMax = max(rowMax, row[j]) }
            var sum: Int64 = 0
            for j in 0..<channels {
                let entry = expTable[Int(rowMax) - Int(row[j])]
                precondition(entry >= 0 && entry <= 1 << 24, "softmax: table entry outside 0...2^24")
                sum += Int64(entry)
            }
            let denominator = 2 * sum
            for j in 0..<channels {
                let numerator = 2 * 256 * Int64(expTable[Int(rowMax) - Int(row[j])]) + sum
                out[j] = clampToInt8(numerator / denominator - 128, -128, 127)
            }
        }
    }
}

extension Int8Reference {
    /// Int8 softmax over the last axis as LiteRT computes it on x86 (`optimized_ops::Softmax`
    /// with `PopulateSoftmaxLookupTable`'s float table, which its reference resolver runs
    /// too), in IEEE single precision, in this order:
    ///
    ///     m = max_j in[j];   d_j = m - in[j]                 (0...255)
    ///     sum = table[d_0] + table[d_1] + …                  (left to right)
    ///     inverse = 1 / (sum · outputScale)
    ///     out[j] = clamp(roundHalfAwayFromZero(table[d_j] · inverse) + outputZeroPoint, -128, 127)
    ///
    /// with `table[d] = expf(-inputScale·d)` computed by the compiler. Single-precision
    /// `+`, `·` and `/` are correctly rounded on every target, so the result is the same
    /// everywhere (LiteRT's own aarch64 build uses a 16-bit table instead, docs/TFLITE.md).
    ///
    /// - Precondition: `table[0] == 1`, entries in 0...1; `outputScale` positive and normal;
    ///   `channels >= 1`. `output` may alias `input` (each row is read fully before it is
    ///   written).
    @_optimize(size)
    public static func softmaxFloatTable(
        input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, rows: Int, channels: Int,
        table: UnsafePointer<Float>, outputScale: Float, outputZeroPoint: Int32
    ) {
        for r in 0..<rows {
            let row = input + r * channels
            let out = output + r * channels
            let (rowMax, sum) = tableSum(row, channels: channels, table: table)
            let inverse = 1 / (sum * outputScale)
            for j in 0..<channels {
                let probability = table[Int(rowMax) - Int(row[j])] * inverse
                let q = Int64(roundHalfAwayFromZero(Double(probability))) + Int64(outputZeroPoint)
                out[j] = Int8(truncatingIfNeeded: max(-128, min(127, q)))
            }
        }
    }
}

extension Int8Reference {
    /// Int8 log-softmax over the last axis (Quanta's own numerics), with the exponential
    /// table of `softmaxFloatTable` (`table[d] = expf(-inputScale·d)`):
    ///
    ///     m = max_j in[j];   d_j = m - in[j]
    ///     sum = table[d_0] + table[d_1] + …                    (single precision, in order)
    ///     out[j] = clamp(roundHalfAwayFromZero((-inputScale·d_j - naturalLog(sum)) / outputScale)
    ///                    + outputZeroPoint, -128, 127)
    ///
    /// All in IEEE single precision (`naturalLog` in double, from bits), so the same on every
    /// target. `out + 128`… is the log-probability `inputScale·(x_j - m) - log Σ exp(…)` in
    /// the output's scale, within the float table's rounding.
    ///
    /// - Precondition: `table[0] == 1`, entries in 0...1; scales positive and normal;
    ///   `channels >= 1`. `output` may alias `input`.
    @_optimize(size)
    public static func logSoftmax(
        input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, rows: Int, channels: Int,
        table: UnsafePointer<Float>, inputScale: Float, outputScale: Float, outputZeroPoint: Int32
    ) {
        for r in 0..<rows {
            let row = input + r * channels
            let out = output + r * channels
            let (rowMax, sum) = tableSum(row, channels: channels, table: table)
            let logSum = naturalLog(sum)
            for j in 0..<channels {
                let value = (-inputScale * Float(Int(rowMax) - Int(row[j])) - logSum) / outputScale
                let q = Int64(roundHalfAwayFromZero(Double(value))) + Int64(outputZeroPoint)
                out[j] = Int8(truncatingIfNeeded: max(-128, min(127, q)))
            }
        }
    }

    /// A row's maximum and `Σ_j table[max − row[j]]` in single precision, left to right (the
    /// order LiteRT's x86 softmax sums in).
    @inline(never)
    @_optimize(size)
    static func tableSum(_ row: UnsafePointer<Int8>, channels: Int, table: UnsafePointer<Float>) -> (Int8, Float) {
        var rowMax = row[0]
        for j in 1..<channels { rowMax = max(rowMax, row[j]) }
        var sum: Float = 0
        for j in 0..<channels { sum += table[Int(rowMax) - Int(row[j])] }
        return (rowMax, sum)
    }

    /// `log(x)` for a positive, finite `x`, without libm: `x = m·2^e` from the bits
    /// (`m` in [√½, √2)), `log m = 2·atanh((m−1)/(m+1))` by its series to the 13th power (an
    /// error below 1e-12 there), `e·ln 2` added, all in double, rounded once to float. The
    /// same bits on every target (no fused multiply-adds in Swift arithmetic).
    /// - Precondition: `x` positive, finite and normal.
    @inlinable
    public static func naturalLog(_ x: Float) -> Float {
        let bits = x.bitPattern
        var e = Int((bits >> 23) & 0xFF) - 127
        var m = Double(Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000))  // [1, 2)
        if m > 1.4142135623730951 {
            m /= 2
            e += 1
        }
        let t = (m - 1) / (m + 1), t2 = t * t
        let series = t * (1 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 / 13))))))
        return Float(Double(e) * 0.6931471805599453 + 2 * series)
    }
}
