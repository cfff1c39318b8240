// A record's model output as a probability vector over the K observed classes.
//
// Either `probs`, an array in the observed-class order, or `scores`, an object class → value (classes
// it leaves out get probability 0). Values are probabilities (non-negative; normalized to sum 1), or
// logits turned into probabilities by softmax(x / T) with --softmax T. The order of the observed
// classes is the --observed file's (all classes of the metric when there is none).
import Foundation
import Runtime

public struct ProbabilityInput {
    public let observedNames: [String]
    let position: [String: Int]
    public var probsField = "probs"
    public var scoresField = "scores"
    /// softmax(x / T) of the values when set (they are logits then).
    public var temperature: Float?

    public init(observedNames: [String]) {
        self.observedNames = observedNames
        var position: [String: Int] = [:]
        for (i, n) in observedNames.enumerated() { position[n] = i }
        self.position = position
    }

    public var k: Int { observedNames.count }

    /// The record's probabilities over the observed classes, summing to 1.
    public func read(_ r: Record) throws -> [Float] {
        var values: [Float]
        var present: [Bool]? = nil
        if r.has(probsField) {
            values = try r.floats(probsField)
            guard values.count == k else {
                throw RecordError.field(probsField, "\(values.count) probabilities for \(k) observed classes")
            }
        } else if r.has(scoresField) {
            guard case .object(let object)? = r.value(scoresField) else {
                throw RecordError.field(scoresField, "expected an object class → probability")
            }
            values = [Float](repeating: 0, count: k)
            present = [Bool](repeating: false, count: k)
            for m in object {
                guard let i = position[m.key] else {
                    throw RecordError.field(scoresField, "'\(m.key)' is not an observed class")
                }
                guard let v = try? m.value.numberValue?.float() else {
                    throw RecordError.field(scoresField, "the value of '\(m.key)' is not a number")
                }
                values[i] = v
                present![i] = true  // invariant: set just above
            }
        } else {
            throw RecordError("missing field '\(probsField)' (or '\(scoresField)')")
        }
        let field = present == nil ? probsField : scoresField
        if let t = temperature {
            var m = -Float.infinity
            for i in 0..<k where present?[i] ?? true { m = Swift.max(m, values[i] / t) }
            guard m.isFinite else { throw RecordError.field(field, "no scores") }
            var sum: Float = 0
            for i in 0..<k {
                let e: Float = (present?[i] ?? true) ? Foundation.exp(values[i] / t - m) : 0
                values[i] = e
                sum += e
            }
            for i in 0..<k { values[i] /= sum }
            return values
        }
        var sum: Float = 0
        for (i, v) in values.enumerated() {
            guard v >= 0 else {
                let name = observedNames[i]
                throw RecordError.field(field, "negative probability \(v) for '\(name)' (logits? --softmax T turns them into probabilities)")
            }
            sum += v
        }
        guard sum > 0 && sum.isFinite else { throw RecordError.field(field, "the probabilities sum to \(sum)") }
        if sum != 1 { for i in 0..<k { values[i] /= sum } }
        return values
    }
}

/// Writes probabilities over `names` into `field`: an array in that order, or with `asScores` an object
/// name → probability (order-free: safe to pass to a stage whose --observed order differs).
public func setProbabilities(_ r: inout Record, field: String, names: [String], values: UnsafeBufferPointer<Float>,
                             asScores: Bool) throws {
    guard asScores else { return try r.set(field, floats: values) }
    var object = JSONObject()
    for (name, v) in zip(names, values) {
        guard let n = JSONValue(v) else { throw RecordError.field(field, "non-finite value cannot be written as JSON") }
        object.members.append(JSONObject.Member(key: name, value: n))
    }
    r.set(field, .object(object))
}
