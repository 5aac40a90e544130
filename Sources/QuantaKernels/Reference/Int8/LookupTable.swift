extension Int8Reference {
    /// Elementwise unary activation as a 256-entry table:
    /// `out[i] = table[Int(in[i]) + 128]`.
    ///
    /// The table is computed at quantization time from the float function and the input
    /// and output quantization (`quantize(f(dequantize(q)))` for each q in -128...127).
    /// `output` may alias `input` exactly (in place); each element is read before it is
    /// written.
    ///
    /// - Precondition: `table` holds 256 entries; `count >= 0`.
    public static func lookupTable(
        input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, count: Int,
        table: UnsafePointer<Int8>
    ) {
        precondition(count >= 0, "lookupTable: negative count")
        for i in 0..<count {
            output[i] = table[Int(input[i]) + 128]
        }
    }
}
