import QuantaRuntime

/// Tensor and op names as Strings, for reports (host side: the runtime itself only hands
/// out the UTF-8 bytes, `tensorNameBytes` and `opNameBytes`).
extension Model {
    /// Name of tensor `i` (empty when the file has no names).
    public func tensorName(_ i: Int) -> String { String(decoding: tensorNameBytes(i), as: UTF8.self) }

    /// Name of op `i` (empty when the file has no names).
    public func opName(_ i: Int) -> String { String(decoding: opNameBytes(i), as: UTF8.self) }
}
