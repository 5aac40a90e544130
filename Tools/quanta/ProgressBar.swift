import Foundation

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var lastDrawn = -1
    private var drew = false

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    func update(_ done: Int, _ total: Int, _ stage: String) {
        guard enabled, total > 0 else { return }
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn || done == total else { return }
        lastDrawn = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write("\r\(stage) [\(bar)] \(done)/\(total)".data(using: .utf8)!)
        drew = true
    }

    func finish() {
        if drew { FileHandle.standardError.write("\n".data(using: .utf8)!) }
        drew = false
        lastDrawn = -1
    }
}
