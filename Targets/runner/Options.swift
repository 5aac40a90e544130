/// The command line of `quanta-run`:
///
///     quanta-run MODEL.qmodel INPUT.npy OUTPUT.npy [--repeat N] [--float] [--arena-bytes N]
struct Options {
    var modelPath = ""
    var inputPath = ""
    var outputPath = ""
    /// Invokes per input sample (the latency is measured over all of them).
    var repeatCount = 1
    /// Write the outputs dequantized to float32 instead of raw int8.
    var floatOutput = false
    /// Arena size to allocate instead of the model's planned size.
    var arenaBytes: Int? = nil

    static let usage = """
        usage: quanta-run MODEL.qmodel INPUT.npy OUTPUT.npy [--repeat N] [--float] [--arena-bytes N]
          INPUT.npy   float32 ('<f4', C order) in the model's source layout (NCHW for ONNX);
                      a leading dimension that is a multiple of the model's batch runs each batch in turn
          OUTPUT.npy  int8 ('|i1') quantized outputs in the source layout, or float32 with --float
          --repeat N       invoke N times per input batch (latency is reported over all invokes)
          --float          write dequantized float32 outputs
          --arena-bytes N  allocate N arena bytes instead of the model's planned size
        """

    /// Parses `arguments` (without the program name); returns an error message on bad usage.
    static func parse(_ arguments: [String]) -> (Options?, String?) {
        var options = Options()
        var positional: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if equal(a, "--float") {
                options.floatOutput = true
            } else if equal(a, "--repeat") || equal(a, "--arena-bytes") {
                guard i + 1 < arguments.count else { return (nil, "\(a) needs a value") }
                guard let v = parseCount(arguments[i + 1]) else {
                    return (nil, "\(a): '\(arguments[i + 1])' is not a non-negative integer")
                }
                if equal(a, "--repeat") {
                    guard v >= 1 else { return (nil, "--repeat must be at least 1") }
                    options.repeatCount = v
                } else {
                    options.arenaBytes = v
                }
                i += 1
            } else if equal(a, "-h") || equal(a, "--help") {
                return (nil, nil)
            } else if a.utf8.first == 0x2D && a.utf8.count > 1 {
                return (nil, "unknown option \(a)")
            } else {
                positional.append(a)
            }
            i += 1
        }
        guard positional.count == 3 else {
            return (nil, "expected MODEL.qmodel INPUT.npy OUTPUT.npy, got \(positional.count) paths")
        }
        options.modelPath = positional[0]
        options.inputPath = positional[1]
        options.outputPath = positional[2]
        return (options, nil)
    }
}

/// Byte-wise string equality (no Unicode tables needed in Embedded Swift).
func equal(_ a: String, _ b: StaticString) -> Bool {
    let bb = UnsafeRawBufferPointer(start: b.utf8Start, count: b.utf8CodeUnitCount)
    return a.utf8.elementsEqual(bb)
}

/// A decimal non-negative integer, or nil.
func parseCount(_ s: String) -> Int? {
    var value = 0
    var digits = 0
    for c in s.utf8 {
        guard c >= 0x30 && c <= 0x39 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (r, o2) = m.addingReportingOverflow(Int(c - 0x30))
        guard !o1, !o2 else { return nil }
        value = r
        digits += 1
    }
    return digits > 0 ? value : nil
}

/// `nanoseconds` as milliseconds with three decimals ("12.345").
func milliseconds(_ nanoseconds: Int64) -> String {
    let microseconds = (nanoseconds + 500) / 1000
    let whole = microseconds / 1000
    let fraction = microseconds % 1000
    var f = "\(fraction)"
    while f.utf8.count < 3 { f = "0" + f }
    return "\(whole).\(f)"
}
