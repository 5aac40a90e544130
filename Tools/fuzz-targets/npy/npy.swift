import QuantaCompiler

/// libFuzzer entry: `NumPy.decode` must return an array or throw a `NumPyError` for any
/// bytes — never trap, read out of bounds or leak. A decoded array must hold exactly as
/// many elements as its shape says.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    do {
        let array = try NumPy.decode(bytes, source: "fuzz")
        var count = 1
        for d in array.shape { count *= d }
        precondition(array.count == count, "decoded element count differs from the shape")
    } catch is NumPyError {
    } catch {
        preconditionFailure("NumPy.decode threw a non-NumPyError: \(error)")
    }
    return 0
}
