// `prokd predict`: tags and entity spans for sentences.
import ArgumentParser
import Foundation
import ProKDCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tag words with a trained teacher or student: JSON Lines {\"tokens\": [...]} in, tags and entities out.",
        discussion: """
        Each record's --tokens-field (a list of words, or a string split at white space) gets `tags` (one \
        IOB2 tag per word) and `entities` ([{"type", "first", "last", "start", "end", "text"}]: word \
        indices, and code-point offsets into the words joined by single spaces). Words past the \
        model's max_length are tagged O (`truncated_words` counts them). A record that cannot be read is \
        written with an `error` field (or --on-error). A CoNLL file is turned into such records by \
        `prokd predict --conll FILE` (one record per sentence, its gold tags under "gold" when present).

        Example:
          echo '{"tokens": ["El", "Real", "Madrid", "ganó", "en", "Sevilla"]}' | prokd predict --model s
        """)

    @Option(help: "A directory written by `prokd teacher` or `prokd student`.")
    var model: String

    @Option(help: "The base model, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Read sentences from a CoNLL column file instead of JSON Lines.", valueName: "file"))
    var conll: String?

    @Option(help: "A word's distribution: its first sub-token's (as trained), or the mean or max over its sub-tokens.")
    var aggregate: WordAggregation = .first

    @Option(help: "Field with a sentence's words.")
    var tokensField = "tokens"

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if conll == "-" { throw ValidationError("--conll takes a file (JSON Lines come on stdin)") }
    }

    func run() throws {
        common.apply()
        let bundle: TaggerBundle
        do { bundle = try TaggerFiles.load(directory: model, base: base) } catch {
            fatalLoad(program: "prokd", path: model, problem: "\(error)", hint: "give a directory written by `prokd teacher` or `prokd student`")
        }
        let encoder = bundle.encoder, names = bundle.config.tags
        func words(_ r: Record) throws -> [String] {
            try r.value(tokensField)?.stringValue.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) } ?? r.strings(tokensField)
        }
        func annotate(_ r: inout Record, _ p: WordTags, _ w: [String]) {
            let tags = p.tags.map { names[$0] }
            r.set("tags", strings: tags)
            r.set("entities", .array(entityRecords(tags: tags, words: w, spans: p.spans)))
            if p.truncatedWords > 0 { r.set("truncated_words", int: p.truncatedWords) }
        }
        if let conll {
            // Gold tags when the file has a tag column; a file of words alone is read without.
            let sentences = (try? readTaggedSentences(path: conll)) ?? readSentences(conll, tags: false)
            try exitOnError(conll) {
                let encoded = try sentences.map { try encoder.encodeWords($0.words) }
                for (s, p) in zip(sentences, tagWords(bundle, encoded, batch: common.batch, aggregate: aggregate)) {
                    var r = Record()
                    r.set(tokensField, strings: s.words)
                    if let g = s.tags { r.set("gold", strings: g) }
                    annotate(&r, p, s.words)
                    print(r.jsonText)
                }
            }
            return
        }
        let runner = JSONLRunner(program: "prokd", io: io, common: common)
        let status = runner.mapBatches(batchSize: common.batch * 4, read: { r -> EncodedWords in
            let w = try words(r)
            guard !w.isEmpty else { throw RecordError.field(tokensField, "no words") }
            do { return try encoder.encodeWords(w) } catch { throw RecordError.field(tokensField, "\(error)") }
        }, compute: { tagWords(bundle, $0, batch: common.batch, aggregate: aggregate) }, write: { r, p in
            annotate(&r, p, try words(r))
        })
        throw ExitCode(status)
    }
}
