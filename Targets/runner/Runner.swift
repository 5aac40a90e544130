import QuantaKernels
import QuantaRuntime

/// `quanta-run`: runs a `.qmodel` on a float32 `.npy` input and writes the outputs as
/// `.npy`, printing the arena size and the latency per invoke. See `Options.usage`.
///
/// Memory: the model file is read once into one buffer and used in place; the arena is
/// allocated once (the model's planned size, or `--arena-bytes`) before the first invoke;
/// nothing is allocated between the invokes that are timed.
@_cdecl("main")
func runnerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var arguments: [String] = []
    for i in 1..<Int(max(argc, 1)) {
        if let a = argv[i] { arguments.append(String(cString: a)) }
    }
    let (parsed, usageError) = Options.parse(arguments)
    guard let options = parsed else {
        if let usageError { writeLine("quanta-run: \(usageError)", fd: 2) }
        writeLine(Options.usage, fd: usageError == nil ? 1 : 2)
        return usageError == nil ? 0 : 2
    }
    switch run(options) {
    case .success:
        return 0
    case .failure(let error):
        writeLine("quanta-run: error: \(error.message)", fd: 2)
        return 1
    }
}

/// Everything that can stop a run, turned into one line for people.
enum RunError: Error {
    case file(FileError)
    case npy(path: String, NpyError)
    case model(path: String, ModelError)
    case arena(ModelError)
    case inputCount(Int)
    case inputShape(expected: [Int], found: [Int], layout: String)
    case arenaTooSmall(provided: Int, needed: Int)

    var message: String {
        switch self {
        case .file(let e): return e.message
        case .npy(let path, let e): return "\(path): \(e.message)"
        case .model(let path, let e): return "\(path): invalid model: \(ModelErrorMessage.describe(e))"
        case .arena(let e): return "cannot create the interpreter: \(ModelErrorMessage.describe(e))"
        case .inputCount(let n): return "the model has \(n) inputs; quanta-run feeds exactly one"
        case .inputShape(let expected, let found, let layout):
            return "input shape \(shapeText(found)) does not match the model's input \(shapeText(expected)) (\(layout)); "
                + "a first dimension that is a multiple of \(expected[0]) stacks batches"
        case .arenaTooSmall(let provided, let needed):
            return "--arena-bytes \(provided) is smaller than the model's arena plan (\(needed) bytes)"
        }
    }
}

enum RunResult {
    case success
    case failure(RunError)
}

func run(_ options: Options) -> RunResult {
    do {
        try runChecked(options)
        return .success
    } catch {
        return .failure(error)
    }
}

/// The shape of a tensor in its source layout, NHWC `shape` re-ordered.
/// Whether `a` and `b` list the same dimensions once the 1s are left out.
func sameNonUnitDimensions(_ a: [Int], _ b: [Int]) -> Bool {
    var i = 0, j = 0
    while true {
        while i < a.count && a[i] == 1 { i += 1 }
        while j < b.count && b[j] == 1 { j += 1 }
        if i == a.count || j == b.count { return i == a.count && j == b.count }
        if a[i] != b[j] { return false }
        i += 1
        j += 1
    }
}

func sourceShape(_ shape: TensorShape, _ layout: TensorLayout) -> [Int] {
    switch layout {
    case .nchw: return [shape.n, shape.c, shape.h, shape.w]
    case .nc: return [shape.n, shape.c]
    case .nhwc: return [shape.n, shape.h, shape.w, shape.c]
    }
}

func layoutName(_ layout: TensorLayout) -> String {
    switch layout {
    case .nchw: return "NCHW"
    case .nc: return "NC"
    case .nhwc: return "NHWC"
    }
}

func shapeText(_ shape: [Int]) -> String {
    var s = "("
    for (i, d) in shape.enumerated() { s += (i == 0 ? "" : ", ") + "\(d)" }
    return s + (shape.count == 1 ? ",)" : ")")
}

/// Index of NHWC element (n, y, x, c) in the source layout of `shape`.
@inline(__always)
func sourceIndex(_ shape: TensorShape, _ layout: TensorLayout, _ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Int {
    switch layout {
    case .nchw: return ((n * shape.c + c) * shape.h + y) * shape.w + x
    case .nc, .nhwc: return shape.index(n, y, x, c)
    }
}

func runChecked(_ options: Options) throws(RunError) {
    // The model file, read once and used in place.
    let modelFile: AlignedBuffer
    do { modelFile = try readFile(options.modelPath) } catch { throw .file(error) }
    defer { modelFile.release() }
    let model: Model
    do { model = try Model(bytes: modelFile.raw) } catch { throw .model(path: options.modelPath, error) }
    guard model.inputCount == 1 else { throw .inputCount(model.inputCount) }

    // The input samples.
    let inputFile: AlignedBuffer
    do { inputFile = try readFile(options.inputPath) } catch { throw .file(error) }
    defer { inputFile.release() }
    let samples: NpyFloatArray
    do { samples = try NpyFloatArray.parse(inputFile.raw) } catch { throw .npy(path: options.inputPath, error) }

    // The arena, allocated once.
    let arenaBytes = options.arenaBytes ?? model.arenaSize
    if arenaBytes < model.arenaSize { throw .arenaTooSmall(provided: arenaBytes, needed: model.arenaSize) }
    guard let arena = AlignedBuffer(count: arenaBytes) else { throw .file(.outOfMemory(bytes: arenaBytes)) }
    defer { arena.release() }
    let interpreter: Interpreter
    do { interpreter = try Interpreter(model: model, arena: arena.mutableRaw) } catch { throw .arena(error) }

    let input = interpreter.input(0)
    let layout = input.sourceLayout
    let expected = sourceShape(input.shape, layout)
    // The input's source shape, a stack of k batches along the first axis (k * n there),
    // or, for batch 1, one sample without the batch axis.
    let found = samples.shape
    let batches: Int
    if found.count == expected.count, found[0] > 0, found[0] % expected[0] == 0,
       found.dropFirst().elementsEqual(expected.dropFirst()) {
        batches = found[0] / expected[0]
    } else if expected[0] == 1, found.elementsEqual(expected.dropFirst()) {
        batches = 1
    } else if layout == .nhwc, sameNonUnitDimensions(found, expected) {
        // An input held in its source order (an ONNX [2, 6, 6] held as 2×1×6×6): the same
        // bytes whatever dimensions of 1 the file adds or drops.
        batches = 1
    } else {
        throw .inputShape(expected: expected, found: found, layout: layoutName(layout))
    }

    // Output buffers for all batches (allocated before the timed loop).
    var outputBuffers: [AlignedBuffer] = []
    defer { for b in outputBuffers { b.release() } }
    for o in 0..<model.outputCount {
        let view = interpreter.output(o)
        let bytes = batches * view.count * (options.floatOutput ? 4 : 1)
        guard let b = AlignedBuffer(count: bytes) else { throw .file(.outOfMemory(bytes: bytes)) }
        outputBuffers.append(b)
    }

    var latencies: [Int64] = []
    latencies.reserveCapacity(batches * options.repeatCount)
    let sampleCount = input.count
    for batch in 0..<batches {
        for _ in 0..<options.repeatCount {
            // Inputs may be overwritten during invoke: write them before every call.
            writeInput(input, samples, offset: batch * sampleCount)
            let start = monotonicNanoseconds()
            interpreter.invoke()
            latencies.append(monotonicNanoseconds() - start)
        }
        for o in 0..<model.outputCount {
            readOutput(interpreter.output(o), into: outputBuffers[o], batch: batch, float: options.floatOutput)
        }
    }

    // Outputs as .npy in the source layout.
    for o in 0..<model.outputCount {
        let view = interpreter.output(o)
        var shape = sourceShape(view.shape, view.sourceLayout)
        shape[0] *= batches
        let header = npyHeader(descr: options.floatOutput ? "<f4" : "|i1", shape: shape)
        let path = o == 0 ? options.outputPath : numberedPath(options.outputPath, o)
        do { try writeFile(path, header: header, data: outputBuffers[o].raw) } catch { throw .file(error) }
        writeLine("output \(o): \(path) \(options.floatOutput ? "float32" : "int8") \(shapeText(shape)) \(layoutName(view.sourceLayout))")
    }

    var total: Int64 = 0
    var lo = Int64.max
    var hi: Int64 = 0
    for t in latencies {
        total += t
        lo = min(lo, t)
        hi = max(hi, t)
    }
    let mean = total / Int64(latencies.count)
    writeLine("arena: \(arenaBytes) bytes (model plan \(model.arenaSize) bytes)")
    writeLine("invokes: \(latencies.count) (\(batches) batches x \(options.repeatCount))")
    writeLine("latency per invoke: mean \(milliseconds(mean)) ms, min \(milliseconds(lo)) ms, max \(milliseconds(hi)) ms")
}

/// Quantizes one batch of float samples (source layout) into the NHWC int8 input.
func writeInput(_ input: TensorView, _ samples: NpyFloatArray, offset: Int) {
    let s = input.shape
    let q = input.quantization
    // Planar (NCHW) or plain samples at 4-byte alignment: the vector loop, per image.
    let source = samples.data + 4 * offset
    let layoutFits = input.sourceLayout == .nchw || input.sourceLayout == .nhwc || input.sourceLayout == .nc
    if layoutFits && Int(bitPattern: source) % 4 == 0 && q.scale > 0 {
        let planar = input.sourceLayout == .nchw
        let image = s.h * s.w * s.c
        for n in 0..<s.n {
            VectorQuantize.planes((source + 4 * n * image).assumingMemoryBound(to: Float.self),
                                  planes: planar ? s.c : 1, planeSize: planar ? s.h * s.w : image,
                                  into: input.data + n * image, q)
        }
        return
    }
    for n in 0..<s.n {
        for y in 0..<s.h {
            for x in 0..<s.w {
                for c in 0..<s.c {
                    let v = samples.element(offset + sourceIndex(s, input.sourceLayout, n, y, x, c))
                    input.data[s.index(n, y, x, c)] = Quantizer.quantize(v, q)
                }
            }
        }
    }
}

/// Copies one batch of an NHWC int8 output into `buffer` in the source layout, as int8
/// or dequantized float32 (little-endian).
func readOutput(_ output: TensorView, into buffer: AlignedBuffer, batch: Int, float: Bool) {
    let s = output.shape
    let base = batch * output.count
    for n in 0..<s.n {
        for y in 0..<s.h {
            for x in 0..<s.w {
                for c in 0..<s.c {
                    let value = output.data[s.index(n, y, x, c)]
                    let i = base + sourceIndex(s, output.sourceLayout, n, y, x, c)
                    if float {
                        let f = Quantizer.dequantize(value, output.quantization)
                        buffer.base.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    } else {
                        buffer.base.storeBytes(of: value, toByteOffset: i, as: Int8.self)
                    }
                }
            }
        }
    }
}

/// "out.npy" -> "out.1.npy" for the second output.
func numberedPath(_ path: String, _ index: Int) -> String {
    // Byte-level (String.removeLast would need the Unicode grapheme tables).
    let utf8 = path.utf8
    let hasSuffix = utf8.count > 4 && utf8.suffix(4).elementsEqual(".npy".utf8)
    let stem = hasSuffix ? String(decoding: utf8.dropLast(4), as: UTF8.self) : path
    return "\(stem).\(index).npy"
}
