/// The text of one progress line: the stage, a bar, done/total, the rate since the stage
/// began and the time left at that rate ("calibrating [█████·····] 12/64  7.9/s  ETA 7 s").
/// The rate and ETA appear once a second has passed and one item is done.
public enum ProgressText {
    public static func line(stage: String, done: Int, total: Int, elapsedSeconds: Double, width: Int = 30) -> String {
        let percent = total > 0 ? min(100, max(0, done * 100 / total)) : 100
        let filled = width * percent / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        var text = "\(stage) [\(bar)] \(done)/\(total)"
        if elapsedSeconds >= 1, done > 0 {
            let rate = Double(done) / elapsedSeconds
            text += "  " + (rate >= 10 ? "\(Int(rate.rounded()))" : "\((rate * 10).rounded() / 10)") + "/s"
            if done < total { text += "  ETA " + duration(Double(total - done) / rate) }
        }
        return text
    }

    /// "7 s", "3 min 05 s", "1 h 02 min".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min " + (s % 60 < 10 ? "0" : "") + "\(s % 60) s" }
        return "\(s / 3600) h " + (s / 60 % 60 < 10 ? "0" : "") + "\(s / 60 % 60) min"
    }
}
