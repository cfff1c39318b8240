// A labo model directory: labo.json (classes, the selected concepts with their classes, feature_norm)
// and labo.safetensors (asso_mat [K, N] as the reference's state dict names it, and concepts [N, d]:
// the concepts' text features, so predictions need no text encoder).
import Foundation
import Runtime

public enum LaboFiles {
    public static let configName = "labo.json"
    public static let weightsName = "labo.safetensors"

    public static func save(_ m: ConceptBottleneck, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeSafeTensors([("asso_mat", m.w), ("concepts", m.concepts)], metadata: ["producer": "labo"],
                             to: (dir as NSString).appendingPathComponent(weightsName))
        let o: [(String, JSONValue)] = [
            ("producer", "labo"), ("classes", .array(m.classes.map { .string($0) })),
            ("concepts", .array(m.conceptNames.map { .string($0) })), ("concept_classes", .array(m.conceptClass.map { .number(JSONNumber($0)) })),
            ("feature_norm", .bool(m.featureNorm)), ("scale", .number(JSONNumber(Int(ConceptBottleneck.scale)))),
        ]
        var w = JSONWriter()
        w.write(.object(JSONObject(o.map { .init(key: $0.0, value: $0.1) })))
        let path = (dir as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }

    public static func load(_ dir: String) throws -> ConceptBottleneck {
        let path = (dir as NSString).appendingPathComponent(configName)
        let json = try ConfigFile.read(path).json()
        guard let classes = json["classes"]?.arrayValue?.compactMap(\.stringValue), classes.count >= 2,
              let names = json["concepts"]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty,
              let owner = json["concept_classes"]?.arrayValue?.compactMap({ try? $0.numberValue?.int() }), owner.count == names.count,
              owner.allSatisfy({ classes.indices.contains($0) }), Set(classes).count == classes.count else {
            throw CheckpointError(path, "needs classes (≥ 2, distinct), concepts and concept_classes (one class index per concept)")
        }
        let wpath = (dir as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: wpath)
        let c = try file.tensor("concepts"), w = try file.tensor("asso_mat")
        guard c.rank == 2, c.shape[0] == names.count, w.shape == [classes.count, names.count] else {
            throw CheckpointError(wpath, "concepts \(c.shape) / asso_mat \(w.shape) do not fit \(names.count) concepts and \(classes.count) classes")
        }
        let d = c.shape[1], cs = c.scalars
        let m = ConceptBottleneck(classes: classes, conceptNames: names, conceptClass: owner,
                                  conceptVectors: (0..<names.count).map { Array(cs[($0 * d)..<(($0 + 1) * d)]) },
                                  featureNorm: json["feature_norm"]?.boolValue ?? false)
        m.w.assign(w)
        m.eval()
        return m
    }
}
