// Progress on stderr: "embed: 12400 records, 830/s, 41%, ETA 0:18", redrawn in place with "\r" at
// most every `interval` seconds, and a final "embed: 30000 records in 0:36 (833/s)" plus newline.
//
// The percentage and ETA come from bytes consumed against the inputs' total size, so they appear only
// when every input is a regular file. Shown when stderr is a terminal or --progress is given, never
// with --quiet. `format` is a pure function so tests can check the text. Named ProgressMeter because
// Foundation already has a `Progress`.
import Runtime
import Foundation

public final class ProgressMeter {
    public let program: String
    public let enabled: Bool
    let fd: Int32
    let totalBytes: Int?
    let interval: Double
    let clock: () -> Double
    let startTime: Double
    var lastDraw: Double
    var shownWidth = 0

    public init(program: String, fd: Int32 = STDERR_FILENO, enabled: Bool, totalBytes: Int?,
                interval: Double = 0.25, clock: @escaping () -> Double = ProgressMeter.now) {
        self.program = program
        self.fd = fd
        self.enabled = enabled
        self.totalBytes = totalBytes
        self.interval = interval
        self.clock = clock
        self.startTime = clock()
        self.lastDraw = startTime
    }

    /// Monotonic seconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public static func shouldShow(quiet: Bool, forced: Bool, fd: Int32) -> Bool {
        if quiet { return false }
        return forced || isatty(fd) == 1
    }

    /// Redraw if the last draw is at least `interval` old.
    public func update(records: Int, bytes: Int) {
        guard enabled else { return }
        let t = clock()
        guard t - lastDraw >= interval else { return }
        lastDraw = t
        draw(ProgressMeter.format(program: program, records: records, elapsed: t - startTime,
                             bytes: bytes, totalBytes: totalBytes))
    }

    /// Erase the progress line so an error message starts on a clean line; the next update redraws.
    public func clear() {
        guard enabled, shownWidth > 0 else { return }
        _ = JSONLWriter.writeAll(fd, "\r" + String(repeating: " ", count: shownWidth) + "\r")
        shownWidth = 0
    }

    /// The summary line, then a newline.
    public func finish(records: Int) {
        guard enabled else { return }
        let elapsed = clock() - startTime
        draw(ProgressMeter.formatFinal(program: program, records: records, elapsed: elapsed))
        _ = JSONLWriter.writeAll(fd, "\n")
        shownWidth = 0
    }

    func draw(_ text: String) {
        let pad = max(0, shownWidth - text.count)
        _ = JSONLWriter.writeAll(fd, "\r" + text + String(repeating: " ", count: pad))
        shownWidth = text.count
    }

    // MARK: formatting

    public static func format(program: String, records: Int, elapsed: Double, bytes: Int, totalBytes: Int?) -> String {
        var parts = ["\(program): \(records) records"]
        if elapsed > 0 { parts.append("\(formatRate(Double(records) / elapsed))/s") }
        if let total = totalBytes, total > 0 {
            let fraction = min(1, Double(bytes) / Double(total))
            parts.append("\(Int(fraction * 100))%")
            if bytes > 0 && elapsed > 0 && fraction < 1 {
                let remaining = elapsed * Double(total - bytes) / Double(bytes)
                parts.append("ETA \(formatDuration(remaining))")
            }
        }
        return parts.joined(separator: ", ")
    }

    public static func formatFinal(program: String, records: Int, elapsed: Double) -> String {
        let rate = elapsed > 0 ? ", \(formatRate(Double(records) / elapsed))/s" : ""
        return "\(program): \(records) records in \(formatDuration(elapsed))\(rate)"
    }

    /// "0.5", "12", "830", "12.4k", "1.3M".
    public static func formatRate(_ r: Double) -> String {
        if !r.isFinite { return "?" }
        if r < 10 { return String(format: "%.1f", r) }
        if r < 10_000 { return String(Int(r.rounded())) }
        if r < 1_000_000 { return String(format: "%.1fk", r / 1000) }
        return String(format: "%.1fM", r / 1_000_000)
    }

    /// "0:07", "12:05", "1:02:03".
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e9 else { return "?" }
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(sec))" : "\(m):\(two(sec))"
    }
}
