/// Optional names of tensors and ops, for reports. The names section is either empty or
/// holds exactly one name per tensor and per op (UTF-8, possibly empty). The runtime hands
/// out the bytes; the host tools decode them (`tensorName`, `opName` in QuantaCompiler), so
/// that no String decoding is linked into a board's runtime.
extension Model {
    /// Whether the file carries names.
    public var hasNames: Bool { namesLength > 0 }

    /// UTF-8 bytes of the name of tensor `i`, empty when the file has no names.
    public func tensorNameBytes(_ i: Int) -> UnsafeRawBufferPointer {
        precondition(i >= 0 && i < tensorCount, "tensor index out of range")
        return nameBytes(entry: i)
    }

    /// UTF-8 bytes of the name of op `i`, empty when the file has no names.
    public func opNameBytes(_ i: Int) -> UnsafeRawBufferPointer {
        precondition(i >= 0 && i < opCount, "op index out of range")
        return nameBytes(entry: tensorCount + i)
    }

    func nameBytes(entry: Int) -> UnsafeRawBufferPointer {
        guard hasNames else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let e = namesSection + 8 + 8 * entry
        let offset = reader.word(e), length = reader.word(e + 4)
        return UnsafeRawBufferPointer(start: base + namesSection + offset, count: length)
    }

    func validateNames() throws(ModelError) {
        guard hasNames else { return }
        guard namesLength >= 8 else {
            throw .offsetOutOfBounds(section: .names, offset: 0, length: 8, fileSize: namesLength)
        }
        let tensorNames = reader.word(namesSection), opNames = reader.word(namesSection + 4)
        guard tensorNames == tensorCount else { throw .invalidCount(section: .names, found: tensorNames, expected: tensorCount) }
        guard opNames == opCount else { throw .invalidCount(section: .names, found: opNames, expected: opCount) }
        let entries = tensorCount + opCount
        guard let tableBytes = Checked.mul(entries, 8), Checked.fits(8, tableBytes, in: namesLength) else {
            throw .offsetOutOfBounds(section: .names, offset: 8, length: entries &* 8, fileSize: namesLength)
        }
        for k in 0..<entries {
            let e = namesSection + 8 + 8 * k
            let offset = reader.word(e), length = reader.word(e + 4)
            guard Checked.fits(offset, length, in: namesLength) else { throw .invalidName(index: k) }
        }
    }
}
