// WeightScope: a place in a checkpoint's name tree, as candle's VarBuilder `vb.pp("q_proj")`.
// A model's constructor pushes one name component per sub-module and asks for each tensor by its
// last component, so every checkpoint name is written once. Modules built from a scope remember its
// path (`Module.checkpointPath`), and their dotted parameter names follow from it: no key map
// repeats what the loader already said.
//
//   let w = WeightScope(loader)                   // ""
//   let attn = w.pp("encoder").pp("layer").pp(3)   // "encoder.layer.3"
//   try attn.linear("query", h, h)                 // "encoder.layer.3.query.weight" / ".bias"
import Foundation

public struct WeightScope {
    public let loader: WeightLoader
    /// Dotted path of this scope ("" at the model's root).
    public let path: String

    public init(_ loader: WeightLoader, path: String = "") {
        self.loader = loader
        self.path = path
    }

    /// The scope one component further down.
    public func pp(_ component: String) -> WeightScope {
        WeightScope(loader, path: path.isEmpty ? component : path + "." + component)
    }

    public func pp(_ index: Int) -> WeightScope { pp(String(index)) }

    /// The full name of `leaf` under this scope.
    public func name(_ leaf: String) -> String { path.isEmpty ? leaf : path + "." + leaf }

    /// Tensor `leaf` of this scope, of shape `shape` (a checkpoint's, or a fresh one made by `initial`).
    public func tensor(_ leaf: String, _ shape: [Int], _ initial: WeightInit) throws -> Tensor {
        try loader.weight(name(leaf), shape, initial)
    }

    /// Whether the source holds tensor `leaf` here (optional parts: a pooler, biases, heads).
    public func has(_ leaf: String) -> Bool { loader.has(name(leaf)) }

    // MARK: layers

    /// A Linear at this scope's `name`: weight [out, in] and, if `bias`, bias [out]. Fresh weights are
    /// N(0, std²) with zero bias when `std` is given (transformers' init), else nn.Linear's.
    public func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                       std: Float? = nil) throws -> Linear {
        let s = pp(name)
        let initW: WeightInit = std.map { .normal(std: $0) } ?? .fanInUniform(fanIn: inFeatures)
        let q = try loader.quantized(s.name("weight"), [outFeatures, inFeatures])
        let weight = q == nil ? try s.tensor("weight", [outFeatures, inFeatures], initW) : nil
        let b = bias ? try s.tensor("bias", [outFeatures], std == nil ? .fanInUniform(fanIn: inFeatures) : .zeros) : nil
        return (q.map { Linear(quantized: $0, bias: b) } ?? Linear(weight: weight!, bias: b)).placed(at: s)
    }

    public func layerNorm(_ name: String, _ dim: Int, eps: Float) throws -> LayerNorm {
        let s = pp(name)
        return LayerNorm(weight: try s.tensor("weight", [dim], .ones), bias: try s.tensor("bias", [dim], .zeros), eps: eps)
            .placed(at: s)
    }

    public func rmsNorm(_ name: String, _ dim: Int, eps: Float) throws -> RMSNorm {
        let s = pp(name)
        return RMSNorm(weight: try s.tensor("weight", [dim], .ones), eps: eps).placed(at: s)
    }

    public func embedding(_ name: String, _ count: Int, _ dim: Int, std: Float) throws -> Embedding {
        let s = pp(name)
        if let q = try loader.quantized(s.name("weight"), [count, dim]) { return Embedding(quantized: q).placed(at: s) }
        return Embedding(weight: try s.tensor("weight", [count, dim], .normal(std: std))).placed(at: s)
    }
}

extension Module {
    /// Records that this module lives at `scope` in its checkpoint (its parameter names follow).
    @discardableResult
    public func placed(at scope: WeightScope) -> Self {
        checkpointPath = scope.path
        return self
    }
}

/// Decodes `config.json` of a model directory, with errors naming the file.
public func loadConfig<C: Decodable>(directory: String) throws -> C {
    let path = (directory as NSString).appendingPathComponent("config.json")
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CheckpointError(path, "cannot read (is \(directory) a model directory?)")
    }
    do { return try JSONDecoder().decode(C.self, from: data) } catch {
        throw CheckpointError(path, "not a valid config: \(error)")
    }
}
