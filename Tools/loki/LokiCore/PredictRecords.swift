// The record loop of `loki predict`: each record's probabilities over the observed classes become the
// Fréchet-mean class in `prediction` (and with --top k the k best classes with their expected squared
// distances). Records are predicted a batch at a time (one GEMM per batch); a record whose
// probabilities cannot be read fails alone.
import Runtime
import RuntimeCLI

public struct PredictOptions {
    public var outField = "prediction"
    public var top = 0
    public var topField = "top"
    public init() {}
}

public func predictRecords(_ runner: JSONLRunner, predictor: FrechetPredictor, input: ProbabilityInput,
                           options: PredictOptions) -> Int32 {
    let classes = predictor.distances.classes
    return runner.run { records in
        var results = [Result<Record, RecordError>](repeating: .failure(RecordError("not processed")), count: records.count)
        var probs: [Float] = [], slots: [Int] = []
        probs.reserveCapacity(records.count * predictor.k)
        for (i, r) in records.enumerated() {
            do {
                probs += try input.read(r)
                slots.append(i)
            } catch let e as RecordError {
                results[i] = .failure(e)
            } catch {
                results[i] = .failure(RecordError("\(error)"))
            }
        }
        let predictions = predictor.predict(probs, rows: slots.count, top: options.top)
        for (p, i) in zip(predictions, slots) {
            // No class has a finite expected squared distance: distances from the metric file overflow
            // Float (huge embedding values or edge weights). The record fails, the run goes on.
            guard p.best >= 0 else {
                results[i] = .failure(RecordError("no class has a finite expected squared distance (the metric's distances overflow 32-bit floats)"))
                continue
            }
            var r = records[i]
            r.set(options.outField, string: classes[p.best])
            if options.top > 0 {
                r.set(options.topField, .array(p.top.map { c in
                    ["class": .string(classes[c.index]), "expected_sq_distance": JSONValue(Swift.max(c.score, 0)) ?? .null]
                }))
            }
            results[i] = .success(r)
        }
        return results
    }
}
