// The batch pattern most programs share: read each record's input (a record whose input is missing or
// malformed fails alone), compute on the good ones together, write each output back into its record.

import Runtime

extension JSONLRunner {
    /// Runs `compute` once per batch on the inputs `read` extracted; `write` stores output k into the
    /// k-th good record. An error thrown by `compute` fails the whole batch's good records with that
    /// message (prefixed by `context`); one thrown by `read` or `write` fails that record.
    public func mapBatches<Input, Output>(batchSize: Int? = nil, context: String = "",
                                          read: (Record) throws -> Input,
                                          compute: ([Input]) throws -> [Output],
                                          write: (inout Record, Output) throws -> Void) -> Int32 {
        run(batchSize: batchSize) { records in
            var results = [Result<Record, RecordError>](repeating: .failure(RecordError("not processed")), count: records.count)
            var inputs: [Input] = [], slots: [Int] = []
            for (i, r) in records.enumerated() {
                do {
                    inputs.append(try read(r))
                    slots.append(i)
                } catch {
                    results[i] = .failure(asRecordError(error))
                }
            }
            guard !slots.isEmpty else { return results }
            let outputs: [Output]
            do { outputs = try compute(inputs) } catch {
                for i in slots { results[i] = .failure(RecordError(context + "\(error)")) }
                return results
            }
            precondition(outputs.count == inputs.count, "mapBatches: \(outputs.count) outputs for \(inputs.count) inputs")
            for (k, i) in slots.enumerated() {
                var r = records[i]
                do {
                    try write(&r, outputs[k])
                    results[i] = .success(r)
                } catch {
                    results[i] = .failure(asRecordError(error))
                }
            }
            return results
        }
    }
}

private func asRecordError(_ error: Error) -> RecordError {
    (error as? RecordError) ?? RecordError("\(error)")
}
