// The record loop of `embed`: each record's text field becomes a vector in the output field. Records
// come in windows of many model batches (sorting by length has something to sort, and batches run
// side by side on the threads); the runner still cuts a window short when input pauses. A record
// without the text field (or with a non-string) fails alone.
import Runtime

public func embedRecords(_ runner: JSONLRunner, encoder: SentenceEncoder, field: String, outField: String,
                         batchSize: Int) -> Int32 {
    runner.run(batchSize: batchSize * 32) { records in
        var texts: [String] = [], slots: [Int] = []
        var results = [Result<Record, RecordError>](repeating: .failure(RecordError("not processed")), count: records.count)
        for (i, r) in records.enumerated() {
            do {
                texts.append(try r.string(field))
                slots.append(i)
            } catch let e as RecordError {
                results[i] = .failure(e)
            } catch {
                results[i] = .failure(RecordError("\(error)"))
            }
        }
        let ids: [[Int]]
        do { ids = try encoder.tokenize(texts) } catch {
            for i in slots { results[i] = .failure(RecordError("field '\(field)': \(error)")) }
            return results
        }
        let vectors = encoder.embed(ids: ids, batchSize: batchSize)
        for (k, i) in slots.enumerated() {
            var r = records[i]
            do {
                try r.set(outField, floats: vectors[k])
                results[i] = .success(r)
            } catch let e as RecordError {
                results[i] = .failure(e)
            } catch {
                results[i] = .failure(RecordError("\(error)"))
            }
        }
        return results
    }
}
