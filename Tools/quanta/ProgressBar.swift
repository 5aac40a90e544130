import Foundation
import QuantaCompiler

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var lastDrawn = -1
    private var drew = false
    private var stage = ""
    private var stageStart = Date()
    private var lastTime = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    /// Redraws when the percentage changes or a second has passed (the rate and ETA move),
    /// and at the end.
    func update(_ done: Int, _ total: Int, _ stage: String) {
        guard enabled, total > 0 else { return }
        let now = Date()
        if stage != self.stage {
            if drew { FileHandle.standardError.write("\n".data(using: .utf8)!) }
            self.stage = stage
            stageStart = now
            lastDrawn = -1
        }
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn || done == total || now.timeIntervalSince(lastTime) >= 1 else { return }
        lastDrawn = percent
        lastTime = now
        let text = ProgressText.line(stage: stage, done: done, total: total, elapsedSeconds: now.timeIntervalSince(stageStart))
        FileHandle.standardError.write("\r\(text)\u{1B}[K".data(using: .utf8)!)
        drew = true
    }

    func finish() {
        if drew { FileHandle.standardError.write("\n".data(using: .utf8)!) }
        drew = false
        lastDrawn = -1
        stage = ""
    }
}
