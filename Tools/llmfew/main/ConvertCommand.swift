// `llmfew convert`: the reference's npy pairs or UEA .ts files → JSON Lines series records.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write series from .npy pairs or UEA/aeon .ts files as JSON Lines.",
        discussion: """
        --x reads an N × M × L array (the reference's <DS>_train_x.npy; N × L for one channel), --y its \
        labels (strings or numbers); --ts reads a .ts file (no time stamps; missing values refused). \
        Output: one {"series": [[…], …], "label": …} per line, channels first.

        Example:
          llmfew convert --x Handwriting_train_x.npy --y Handwriting_train_y.npy > hw-train.jsonl
          llmfew convert --ts BasicMotions_TRAIN.ts > bm-train.jsonl
        """)

    @Option(help: ArgumentHelp("An .npy array of series (N × M × L).", valueName: "file"))
    var x: String?

    @Option(help: ArgumentHelp("An .npy array of the N labels.", valueName: "file"))
    var y: String?

    @Option(help: ArgumentHelp("A UEA/aeon .ts file.", valueName: "file"))
    var ts: String?

    @Flag(help: "Drop trailing steps that are zero in every channel (undo zero padding of unequal lengths).")
    var trimZeros = false

    func validate() throws {
        guard (x != nil) != (ts != nil) else { throw ValidationError("give --x (with --y) or --ts") }
        if y != nil && x == nil { throw ValidationError("--y goes with --x") }
    }

    func run() throws {
        let series: [Series]
        do {
            if let ts { series = try readTSFile(ts) } else { series = try readNPYPair(x: x!, y: y, trimTrailingZeros: trimZeros) }
        } catch {
            fatalLoad(program: "llmfew", path: ts ?? x!, problem: "\(error)")
        }
        var out = JSONWriter()
        for s in series {
            out.write(s.json)
            out.write(ascii: "\n")
            if out.bytes.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(out.bytes))
                out = JSONWriter()
            }
        }
        FileHandle.standardOutput.write(Data(out.bytes))
    }
}
