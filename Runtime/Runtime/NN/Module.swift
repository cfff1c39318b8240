// Module: the base class of layers and models, and their named parameters.
//
// A module's tensors and sub-modules are found by reflection over its stored properties, so a layer
// declares `var weight: Tensor` and `let layers: [Block]` and gets checkpoint-style dotted names
// ("layers.3.attention.weight") for free. Optional tensors that are nil are skipped. A subclass
// renames a property for checkpoints through `keyMap` (Swift names cannot always match a
// checkpoint's: `self` is a keyword) and lists non-trained state (BatchNorm's running statistics)
// in `bufferNames`. A module built from a checkpoint scope (Models/WeightScope.swift) knows its own
// path there, and its parent names it by that path instead of by the property holding it.

open class Module {
    /// Training mode (dropout active, BatchNorm uses batch statistics). Set through train()/eval().
    public private(set) var isTraining = true

    /// Where this module lives in its checkpoint ("encoder.layer.3"), when built from a WeightScope.
    /// A parent that also has a path names this child by the difference ("layer.3").
    public internal(set) var checkpointPath: String?

    public init() {}

    /// Property name → checkpoint key, for properties whose Swift name differs ("" merges a child's
    /// names into this module's).
    open var keyMap: [String: String] { [:] }

    /// Own tensors that are state but not parameters (saved and loaded, never trained).
    open var bufferNames: Set<String> { [] }

    /// Brings every tensor this module holds in another form (a quantized weight) into Float32
    /// before its state is listed by name (`namedState`, `namedParameters`).
    open func materializeState() {}

    // MARK: reflection

    private func ownEntries() -> (tensors: [(String, Tensor)], children: [(String, Module)]) {
        var tensors: [(String, Tensor)] = [], children: [(String, Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var seen = Set<String>()
        while let m = mirror {
            for child in m.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("$__lazy_storage_$_") { continue }
                if label.hasPrefix("_") { label.removeFirst() }  // property wrappers
                guard !seen.contains(label) else { continue }
                seen.insert(label)
                let key = keyMap[label] ?? label
                collect(child.value, key, &tensors, &children)
            }
            mirror = m.superclassMirror
        }
        return (tensors, children)
    }

    private func collect(_ value: Any, _ key: String, _ tensors: inout [(String, Tensor)],
                         _ children: inout [(String, Module)]) {
        switch value {
        case let t as Tensor: tensors.append((key, t))
        case let m as Module: children.append((key, m))
        case let ts as [Tensor]: for (i, t) in ts.enumerated() { tensors.append(("\(key).\(i)", t)) }
        case let ms as [Module]: for (i, m) in ms.enumerated() { children.append(("\(key).\(i)", m)) }
        default:
            // Optionals (Tensor?, Module?) arrive wrapped: unwrap one level.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let inner = mirror.children.first?.value {
                collect(inner, key, &tensors, &children)
            }
        }
    }

    /// Direct sub-modules with their keys.
    public func namedChildren() -> [(String, Module)] { ownEntries().children }

    /// Every module in the tree (this one first) with its dotted path ("" for this one).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out = [(prefix, self)]
        for (key, child) in namedChildren() {
            let key = child.relativePath(below: self) ?? key
            // An empty key flattens the child into this module's namespace (LoRA inside Linear).
            out += child.namedModules(prefix: prefix.isEmpty ? key : key.isEmpty ? prefix : "\(prefix).\(key)")
        }
        return out
    }

    /// This module's checkpoint path relative to `parent`'s, when both were built from scopes and this
    /// one lies below the parent.
    private func relativePath(below parent: Module) -> String? {
        guard let mine = checkpointPath, let theirs = parent.checkpointPath else { return nil }
        if theirs.isEmpty { return mine.isEmpty ? nil : mine }
        guard mine.hasPrefix(theirs + ".") else { return nil }
        return String(mine.dropFirst(theirs.count + 1))
    }

    /// All tensors (parameters and buffers) with dotted names, as a checkpoint stores them.
    public func namedState() -> [(String, Tensor)] {
        namedModules().flatMap { path, module in
            module.materializeState()
            return module.ownEntries().tensors.map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    /// Parameters (state minus buffers) with dotted names.
    public func namedParameters() -> [(String, Tensor)] { namedParameters(materializing: true) }

    /// Parameters; with `materializing` false, weights still held quantized are left out (they are
    /// frozen by nature: nothing to freeze, no adapter among them).
    func namedParameters(materializing: Bool) -> [(String, Tensor)] {
        namedModules().flatMap { path, module in
            if materializing { module.materializeState() }
            return module.ownEntries().tensors
                .filter { !module.bufferNames.contains($0.0) }
                .map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    public func parameters() -> [Tensor] { namedParameters().map(\.1) }

    /// Parameters that currently require grad.
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    public func parameterCount() -> Int { parameters().reduce(0) { $0 + $1.count } }

    // MARK: modes and freezing

    /// Sets training mode on this module and every descendant.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }

    public func eval() { train(false) }

    /// Freezes (requiresGrad = false) the parameters whose dotted name satisfies `predicate`
    /// (all of them by default); `unfreeze` is the reverse.
    /// Weights held quantized stay so (they never require grad).
    public func freeze(where predicate: (String) -> Bool = { _ in true }) {
        for (name, p) in namedParameters(materializing: false) where predicate(name) { p.requiresGrad = false }
    }

    public func unfreeze(where predicate: (String) -> Bool = { _ in true }) {
        for (name, p) in namedParameters() where predicate(name) { p.requiresGrad = true }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    // MARK: loading

    /// Copies values into this module's state by name, checking shapes. Strict: a name the module
    /// lacks or a tensor it has but `state` lacks is an error naming it.
    public func load(state: [String: Tensor], strict: Bool = true) throws {
        let own = namedState()
        var problems: [String] = []
        let ownNames = Set(own.map(\.0))
        for (name, t) in own {
            guard let src = state[name] else {
                if strict { problems.append("missing weight '\(name)' \(t.shape)") }
                continue
            }
            guard src.shape == t.shape else {
                problems.append("weight '\(name)' has shape \(src.shape), expected \(t.shape)")
                continue
            }
            t.assign(src)
        }
        if strict {
            for name in state.keys.sorted() where !ownNames.contains(name) {
                problems.append("unexpected weight '\(name)'")
            }
        }
        if !problems.isEmpty { throw ModuleLoadError(problems: problems) }
    }
}

public struct ModuleLoadError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String {
        let shown = problems.prefix(10).joined(separator: "; ")
        return problems.count > 10 ? "\(shown); and \(problems.count - 10) more" : shown
    }
}

/// A module that maps one tensor to one tensor (what Sequential chains).
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}
