import Foundation

/// A file that could not be read or written, with the path and the reason in words.
public enum FileError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    /// An output path that names one of the command's input files (the same path, a
    /// symbolic link to it or a hard link of it): writing it would destroy the input.
    case outputIsInput(path: String, input: String, role: String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): no such file"
        case .isDirectory(let p): return "\(p): is a directory, expected a file"
        case .unreadable(let p, let r): return "\(p): cannot read: \(r)"
        case .unwritable(let p, let r): return "\(p): cannot write: \(r)"
        case .outputIsInput(let p, let i, let role):
            return p == i ? "\(p): the output would overwrite the \(role); choose another output path"
                : "\(p): the output is the same file as the \(role) '\(i)'; choose another output path"
        }
    }
}

public enum FileIO {
    /// The whole contents of the regular file at `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError.notFound(path: path)
        }
        if isDirectory.boolValue { throw FileError.isDirectory(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        return [UInt8](data)
    }

    /// Throws `outputIsInput` when `output` is the same file as one of `inputs` (role, path):
    /// the same path after resolving `.`/`..` and symbolic links, or an existing file with
    /// the same device and inode (a hard link). Call before any work, so that nothing is
    /// computed for an output that would be refused.
    public static func checkOutput(_ output: String, isNot inputs: [(role: String, path: String)]) throws {
        func resolved(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        func identity(_ p: String) -> (UInt64, UInt64)? {
            var st = stat()
            guard stat(p, &st) == 0 else { return nil }
            return (UInt64(st.st_dev), UInt64(st.st_ino))
        }
        let out = resolved(output), outID = identity(output)
        for (role, path) in inputs {
            if resolved(path) == out { throw FileError.outputIsInput(path: output, input: path, role: role) }
            if let o = outID, let i = identity(path), o == i { throw FileError.outputIsInput(path: output, input: path, role: role) }
        }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder is written
    /// and renamed over `path`, so a failure never leaves a partial file behind.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileError.isDirectory(path: path)
        }
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileError.unwritable(path: path, reason: "folder '\(folder)' does not exist")
        }
        let temporary = (folder.isEmpty ? "." : folder) + "/.\(url.lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw FileError.unwritable(path: path, reason: "permission denied or disk full")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError.unwritable(path: path, reason: reason)
        }
    }

    /// Writes text atomically (see `writeAtomically`).
    public static func writeAtomically(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }
}

/// An error about the contents of a file, prefixed with the file's path for people.
public struct SourcedError: Error, CustomStringConvertible {
    public var source: String
    public var underlying: Error

    public init(source: String, underlying: Error) {
        self.source = source
        self.underlying = underlying
    }

    public var description: String { "\(source): \(underlying)" }
}
