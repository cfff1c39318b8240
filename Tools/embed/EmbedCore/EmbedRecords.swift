// The record loop of `embed`: each record's text field becomes a vector in the output field. Records
// come in windows of many model batches (sorting by length has something to sort, and batches run
// side by side on the threads); the runner still cuts a window short when input pauses. A record
// without the text field (or with a non-string), or whose text cannot be tokenized, fails alone.
import Runtime
import RuntimeCLI

public func embedRecords(_ runner: JSONLRunner, encoder: SentenceEncoder, field: String, outField: String,
                         batchSize: Int) -> Int32 {
    // Windows of 32 model batches; a --batch too large to multiply takes all records as one window.
    runner.mapBatches(batchSize: batchSize > Int.max / 32 ? Int.max : batchSize * 32, context: "field '\(field)': ",
                      read: { try $0.string(field) },
                      compute: { texts in encoder.embedEach(texts, batchSize: batchSize) },
                      write: { r, v in try r.set(outField, floats: try v.get()) })
}
