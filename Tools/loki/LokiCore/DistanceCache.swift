// The squared distances Loki needs, D² [K, N] from the K observed classes to all N classes, computed
// once and cached in a binary file beside the metric.
//
// The cache is a safetensors file `METRIC.loki-<key>.safetensors` holding the F32 tensor `d2` [K, N]
// (memory-mapped when read back, so a 400 MB cache costs no copy) and, as metadata, the class names,
// the observed positions, and what it was computed from: the metric file's size and modification
// time and a hash of the options, the class list and the observed list. Any change recomputes it.
// A directory that cannot be written (or has no write permission bits: shared data, even for root)
// only costs the cache (a note on stderr), never the run.
import Foundation
import Runtime
import RuntimeCLI

public struct ObservedDistances {
    /// The label space, N names.
    public let classes: [String]
    /// The observed classes in probability order, as indices into `classes`.
    public let observed: [Int]
    /// [K, N]: d²(classes[observed[k]], classes[j]).
    public let squared: Tensor

    public init(classes: [String], observed: [Int], squared: Tensor) {
        // invariant: squaredDistanceRows gives [K, N]; a cache file's d2 is checked against its lists.
        precondition(squared.shape == [observed.count, classes.count], "ObservedDistances: d² \(squared.shape) for \(observed.count)×\(classes.count)")
        self.classes = classes
        self.observed = observed
        self.squared = squared
    }

    public var observedNames: [String] { observed.map { classes[$0] } }

    /// From a loaded metric: `observedNames` nil means every class is observed.
    public init(metric: LabelMetric, observedNames: [String]?, observedPath: String) throws {
        let observed = try observedNames.map { try classPositions($0, in: metric.classes, path: observedPath, what: "observed class") }
            ?? Array(metric.classes.indices)
        self.init(classes: metric.classes, observed: observed, squared: withoutGrad { metric.squaredDistanceRows(observed) })
    }
}

public enum DistanceCache {
    public static let version = "1"

    /// D² for the observed classes of `spec`'s metric: read from `cachePath` (default: beside the
    /// metric) when it matches, otherwise computed from the metric file and written there.
    /// `useCache` false neither reads nor writes. `note` receives one-line remarks for stderr.
    public static func load(spec: MetricSpec, observedPath: String?, cachePath: String? = nil, useCache: Bool = true,
                            note: (String) -> Void = { _ in }) throws -> ObservedDistances {
        // Each list is read once (it may be a pipe); the key hashes the names read.
        let observedNames = try observedPath.map(readClassList)
        var spec = spec
        if let cp = spec.classesPath, spec.classList == nil { spec.classList = try readClassList(cp) }
        guard useCache else {
            return try ObservedDistances(metric: MetricFiles.load(spec), observedNames: observedNames, observedPath: observedPath ?? "")
        }
        let key = cacheKey(spec: spec, observedNames: observedNames)
        let path = cachePath ?? "\(spec.path).loki-\(key).safetensors"
        let stamp = try fileStamp(spec.path)
        if let hit = read(path, key: key, stamp: stamp) { return hit }

        let d = try ObservedDistances(metric: MetricFiles.load(spec), observedNames: observedNames, observedPath: observedPath ?? "")
        // A directory without write permission bits is left alone even by root (shared data).
        let dir = (path as NSString).deletingLastPathComponent
        var st = stat()
        if stat(dir.isEmpty ? "." : dir, &st) == 0 && st.st_mode & 0o222 == 0 {
            note("distances not cached: \(dir.isEmpty ? "." : dir) is read-only (--cache FILE puts the cache elsewhere)")
            return d
        }
        var classes = JSONWriter(), observed = JSONWriter()
        classes.write(strings: d.classes)
        observed.write(ints: d.observed)
        do {
            try writeSafeTensors([("d2", d.squared)], metadata: [
                "loki_cache": version, "key": key, "metric": stamp, "classes": String(decoding: classes.bytes, as: UTF8.self), "observed": String(decoding: observed.bytes, as: UTF8.self),
            ], to: path)
        } catch {
            note("distances not cached: \(error) (--cache FILE puts the cache elsewhere)")
        }
        return d
    }

    /// The cache file's contents when it was made from the same inputs; nil otherwise.
    static func read(_ path: String, key: String, stamp: String) -> ObservedDistances? {
        guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensorsFile(path: path),
              file.metadata["loki_cache"] == version, file.metadata["key"] == key, file.metadata["metric"] == stamp,
              let classesText = file.metadata["classes"], let observedText = file.metadata["observed"],
              let classes = (try? JSONValue(parsing: classesText))?.arrayValue?.compactMap(\.stringValue),
              let observed = (try? JSONValue(parsing: observedText))?.arrayValue?.compactMap({ try? $0.numberValue?.int() }),
              let d2 = try? file.tensor("d2"), d2.shape == [observed.count, classes.count], !observed.isEmpty,
              observed.allSatisfy({ $0 >= 0 && $0 < classes.count }) else { return nil }
        return ObservedDistances(classes: classes, observed: observed, squared: d2)
    }

    /// Size and modification time (ns) of the metric file: a changed file misses the cache.
    static func fileStamp(_ path: String) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw LoadError(path: path, problem: String(cString: strerror(errno)), hint: "--metric names a tree/graph edge list, a distance matrix or class embeddings")
        }
        return "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// FNV-1a over the options and the class and observed lists, as 16 hex digits.
    static func cacheKey(spec: MetricSpec, observedNames: [String]?) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for b in bytes { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01b3 }
            h ^= 0xff; h = h &* 0x0000_0100_0000_01b3
        }
        mix(Array("loki-cache-\(version);\(spec.canonical)".utf8))
        for list in [spec.classList, observedNames] {
            guard let list else { mix([0]); continue }
            mix([1])
            for name in list { mix(Array(name.utf8)) }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
