// What the subcommands share: reading series files with clean exits, option types.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

extension LLMMode: ExpressibleByArgument {}
extension NNDistance: ExpressibleByArgument {}

struct SeriesFieldOptions: ParsableArguments {
    @Option(help: "Field with a series (an array of channels, each an array of numbers).")
    var seriesField = "series"
    @Option(help: "Field with the class label.")
    var labelField = "label"
}

/// Series from a JSON Lines file ('-': stdin) or a UEA .ts file (by its extension).
func readSeries(_ path: String, fields: SeriesFieldOptions) throws -> [Series] {
    path.lowercased().hasSuffix(".ts") ? try readTSFile(path)
        : try readSeriesFile(path, seriesField: fields.seriesField, labelField: fields.labelField)
}

func readSeriesOrExit(_ path: String, fields: SeriesFieldOptions) -> [Series] {
    do { return try readSeries(path, fields: fields) } catch { fatalLoad(program: "llmfew", path: path, problem: "\(error)") }
}

func loadModelOrExit(_ directory: String, base: String?) -> LLMFewModel {
    do { return try LLMFewFiles.load(directory: directory, base: base) } catch {
        fatalLoad(program: "llmfew", path: directory, problem: "\(error)", hint: "give a directory written by `llmfew train`")
    }
}

/// Scores as one JSON record.
func scoresRecord(_ s: LLMFewScores, loss: Double? = nil) throws -> Record {
    var r = Record()
    for (k, v) in s.named { try r.set(k, double: v) }
    if let loss { try r.set("loss", double: loss) }
    r.set("series", int: s.count)
    return r
}

func writeLine(_ r: Record) {
    FileHandle.standardOutput.write(Data(r.serialized + [0x0A]))
}
