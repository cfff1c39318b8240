// The record loop of `embed`: each record's text field becomes a vector in the output field. Records
// come in windows of many model batches (sorting by length has something to sort, and batches run
// side by side on the threads); the runner still cuts a window short when input pauses. A record
// without the text field (or with a non-string) fails alone.
import Runtime
import RuntimeCLI

public func embedRecords(_ runner: JSONLRunner, encoder: SentenceEncoder, field: String, outField: String,
                         batchSize: Int) -> Int32 {
    runner.mapBatches(batchSize: batchSize * 32, context: "field '\(field)': ",
                      read: { try $0.string(field) },
                      compute: { texts in encoder.embed(ids: try encoder.tokenize(texts), batchSize: batchSize) },
                      write: { r, v in try r.set(outField, floats: v) })
}
