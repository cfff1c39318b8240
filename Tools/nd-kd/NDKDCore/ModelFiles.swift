// An nd-kd model directory: nd_kd.json (the architecture, the input shape, the normalization, the
// class names and how it was trained), model.safetensors (the classifier's state by PyTorch-style
// names: parameters and BatchNorm buffers; the ND projector is not part of it), and for a teacher
// class_means.json, its class-mean embeddings in the reference's format {"0": [D floats], …}.
import Foundation
import Runtime

public struct NDKDError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct NDConfig: Equatable, Sendable {
    public var arch: NetSpec
    /// [C, H, W] of the images the model takes.
    public var input: [Int]
    public var mean: [Float], std: [Float]
    public var classNames: [String]
    /// "teacher" or the student's loss (ce, kd, kd++, dkd, dkd++).
    public var trainedAs: String

    public init(arch: NetSpec, input: [Int], mean: [Float], std: [Float], classNames: [String], trainedAs: String) {
        (self.arch, self.input, self.mean, self.std, self.classNames, self.trainedAs) = (arch, input, mean, std, classNames, trainedAs)
    }

    public var classes: Int { classNames.count }

    var json: JSONValue {
        func floats(_ v: [Float]) -> JSONValue { .array(v.map { JSONValue($0) ?? .null }) }
        return .object(["producer": "nd-kd", "arch": .string(arch.description), "input": .array(input.map { .number(JSONNumber($0)) }),
                        "mean": floats(mean), "std": floats(std), "class_names": .array(classNames.map { .string($0) }),
                        "trained_as": .string(trainedAs)])
    }

    init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { CheckpointError(path, what) }
        guard let a = json["arch"]?.stringValue else { throw fail("no \"arch\"") }
        let arch: NetSpec
        do { arch = try NetSpec.parse(a) } catch { throw fail("\(error)") }
        guard let input = try json["input"]?.arrayValue?.map({ v -> Int in guard let i = try v.numberValue?.int() else { throw fail("\"input\" holds a non-integer") }; return i }),
              input.count == 3, input.allSatisfy({ (1...4096).contains($0) }) else { throw fail("no valid \"input\" [C, H, W]") }
        func floats(_ k: String) throws -> [Float] {
            guard let v = try json[k]?.arrayValue?.map({ x -> Float in guard let f = try x.numberValue?.float() else { throw fail("\"\(k)\" holds a non-number") }; return f }),
                  v.count == input[0] else { throw fail("\"\(k)\" must hold one number per channel (\(input[0]))") }
            return v
        }
        do { try arch.check(input: input) } catch { throw fail("\(error)") }
        let mean = try floats("mean"), std = try floats("std")
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw fail("\"std\" must be positive") }
        guard let names = json["class_names"]?.arrayValue?.compactMap(\.stringValue), names.count >= 2 else { throw fail("no \"class_names\" (at least 2)") }
        self.init(arch: arch, input: input, mean: mean, std: std, classNames: names, trainedAs: json["trained_as"]?.stringValue ?? "")
    }
}

/// A loaded model: its configuration, the network, and (teachers) the class means [K, D].
public struct NDModel {
    public let config: NDConfig
    public let net: ImageClassifier
    public var classMeans: Tensor?
}

public enum NDModelFiles {
    public static let configName = "nd_kd.json", weightsName = "model.safetensors", meansName = "class_means.json"

    public static func fresh(_ config: NDConfig, seed: UInt64) -> NDModel {
        let net = ImageClassifier(config.arch, inChannels: config.input[0], classes: config.classes,
                                  generator: RandomGenerator(seed: seed, stream: 0x1417))
        return NDModel(config: config, net: net, classMeans: nil)
    }

    public static func load(_ dir: String) throws -> NDModel {
        let cpath = (dir as NSString).appendingPathComponent(configName)
        guard FileManager.default.fileExists(atPath: cpath) else {
            throw CheckpointError(dir, "no \(configName): not a model written by `nd-kd teacher` or `nd-kd train`")
        }
        let text: String
        do { text = try String(contentsOfFile: cpath, encoding: .utf8) } catch { throw CheckpointError(cpath, "cannot read: \(error)") }
        let json: JSONValue
        do { json = try JSONValue(parsing: text) } catch { throw CheckpointError(cpath, "\(error)") }
        var model = fresh(try NDConfig(json: json, path: cpath), seed: 0)
        let wpath = (dir as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: wpath)
        var state: [String: Tensor] = [:]
        for name in file.names { state[name] = try file.tensor(name).copy() }
        do { try model.net.load(state: state) } catch { throw CheckpointError(wpath, "\(error)") }
        let mpath = (dir as NSString).appendingPathComponent(meansName)
        if FileManager.default.fileExists(atPath: mpath) {
            model.classMeans = try readClassMeans(mpath, classes: model.config.classes, width: model.config.arch.embeddingWidth)
        }
        model.net.eval()
        return model
    }

    public static func save(_ model: NDModel, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeSafeTensors(model.net.namedState(), metadata: ["producer": "nd-kd"], to: (dir as NSString).appendingPathComponent(weightsName))
        if let m = model.classMeans { try writeClassMeans(m, to: (dir as NSString).appendingPathComponent(meansName)) }
        var w = JSONWriter()
        w.write(model.config.json)
        let path = (dir as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }

    /// {"0": [D floats], "1": …} (the reference's center_emb_train.json) → [K, D].
    public static func readClassMeans(_ path: String, classes: Int, width: Int) throws -> Tensor {
        let json: JSONValue
        do { json = try JSONValue(parsing: try String(contentsOfFile: path, encoding: .utf8)) } catch { throw CheckpointError(path, "\(error)") }
        let out = Tensor.zeros([classes, width])
        for c in 0..<classes {
            guard let row = json[String(c)]?.arrayValue else { throw CheckpointError(path, "no class \"\(c)\" (class means for \(classes) classes)") }
            guard row.count == width else { throw CheckpointError(path, "class \(c) has \(row.count) values, the embedding has \(width)") }
            for (j, v) in row.enumerated() {
                guard let f = try v.numberValue?.float(), f.isFinite else { throw CheckpointError(path, "class \(c) holds a non-number") }
                out.data[c * width + j] = f
            }
        }
        return out
    }

    public static func writeClassMeans(_ means: Tensor, to path: String) throws {
        let (k, d) = (means.shape[0], means.shape[1])
        var o = JSONObject()
        for c in 0..<k { o[String(c)] = .array((0..<d).map { JSONValue(means.data[c * d + $0]) ?? .null }) }
        var w = JSONWriter()
        w.write(.object(o))
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }
}

extension NDModelFiles {
    public static let projectorName = "projector.safetensors"

    /// The ND projector beside a student (not used to predict; `eval` measures the feature statistics with it).
    public static func saveProjector(_ p: Projector, to dir: String) throws {
        try writeSafeTensors(p.namedState(), metadata: ["producer": "nd-kd"], to: (dir as NSString).appendingPathComponent(projectorName))
    }

    /// The projector saved beside a student, if there is one.
    public static func loadProjector(_ dir: String, from width: Int) throws -> Projector? {
        let path = (dir as NSString).appendingPathComponent(projectorName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafeTensorsFile(path: path)
        guard let w = file.info("linear.weight"), w.shape.count == 2 else { throw CheckpointError(path, "no linear.weight [D_t, D_s]") }
        guard w.shape[1] == width, (1...65536).contains(w.shape[0]) else {
            throw CheckpointError(path, "linear.weight is \(w.shape), the model's embedding has \(width) values")
        }
        let p = Projector(from: w.shape[1], to: w.shape[0], generator: RandomGenerator(seed: 0))
        var state: [String: Tensor] = [:]
        for name in file.names { state[name] = try file.tensor(name).copy() }
        do { try p.load(state: state) } catch { throw CheckpointError(path, "\(error)") }
        p.eval()
        return p
    }
}
