// GLiClass's config.json (the reference's GLiClassModelConfig, gliclass 0.1.21 config.py): every field
// the uni-encoder architecture reads, with the reference's defaults, read from and written back to the
// reference's keys so checkpoints go both ways. Fields of other architectures (bi-encoder, decoder-kv,
// calibrator, recurrent scorer) are kept as they were read and refused where they would change the
// uni-encoder's output.
import Foundation
import Runtime

public enum TextPooling: String, CaseIterable, Sendable {
    case first, last, avg, max, sum, rms
    case absMax = "abs_max", absAvg = "abs_avg", pass
}

public enum ClassPooling: String, CaseIterable, Sendable { case first, average }

public enum ScorerType: String, CaseIterable, Sendable {
    case simple, weightedDot = "weighted-dot", mlp, hopfield, crossAttn = "cross-attn"
}

public enum ProblemType: String, CaseIterable, Sendable {
    case multiLabel = "multi_label_classification", singleLabel = "single_label_classification"
}

public struct GLiClassConfig {
    /// The encoder's config.json as a JSON object (its vocab_size counts the added tokens).
    public var encoderConfig: JSONValue
    public var encoderModelName: String?
    public var classTokenIndex: Int
    public var textTokenIndex: Int
    public var exampleTokenIndex: Int
    public var ignoreIndex = -100
    /// The projectors' inner width (Dh; the encoder's hidden size when the config says null).
    public var hiddenSize: Int
    public var projectorHiddenAct = "gelu"
    public var vocabSize: Int
    public var problemType = ProblemType.singleLabel
    public var maxNumClasses = 25
    public var useLSTM = false
    public var initializerRange: Float = 0.03
    public var scorerType = ScorerType.simple
    public var scorerNumHeads = 16
    public var scorerMLPHiddenSize = 1024
    public var scorerAttnDropout: Float = 0.1
    public var poolingStrategy = TextPooling.first
    public var classTokenPooling = ClassPooling.first
    public var focalLossAlpha: Float = 0.5
    public var focalLossGamma: Float = 2
    /// "none"/null (mean over the valid label slots) or "sum" (0.1.21's reading; "mean" is the mean).
    public var focalLossReduction: String?
    public var logitScaleInitValue: Float = 2.6592
    public var normalizeFeatures = false
    public var extractTextFeatures = false
    /// "dynamic" (the batch's most labels), "fixed" (maxNumClasses) or a number.
    public var maxLabelsAlloc: JSONValue = "dynamic"
    public var contrastiveLossCoef: Float = 0
    public var promptFirst = false
    public var squeezeLayers = false
    public var layerWise = false
    public var encoderLayerId = -1
    public var embedClassToken = true
    public var dropout: Float = 0.1
    public var useSegmentEmbeddings = false
    /// The file as read: fields this port does not interpret are written back unchanged.
    public var original: JSONObject = JSONObject()

    /// The encoder's hidden size (D).
    public var encoderHiddenSize: Int { (try? encoderConfig["hidden_size"]?.numberValue?.int()) ?? nil ?? hiddenSize }

    /// A fresh config for a uni-encoder on `encoder` (its config.json), whose tokenizer has
    /// `tokenizerSize` tokens before <<LABEL>>, <<SEP>> and <<EXAMPLE>> are added (train.py's indices).
    public init(encoder: JSONValue, encoderName: String?, tokenizerSize: Int) throws {
        guard case .object(var enc) = encoder else { throw GLiClassError("the encoder's config.json is not a JSON object") }
        guard let hidden = (try? enc["hidden_size"]?.numberValue?.int()) ?? nil else {
            throw GLiClassError("the encoder's config.json has no hidden_size")
        }
        enc["vocab_size"] = .number(JSONNumber(tokenizerSize + 3))
        encoderConfig = .object(enc)
        encoderModelName = encoderName
        classTokenIndex = tokenizerSize
        textTokenIndex = tokenizerSize + 1
        exampleTokenIndex = tokenizerSize + 2
        hiddenSize = hidden
        vocabSize = tokenizerSize + 3
    }

    /// Reads a GLiClass config.json; errors name `path`.
    public init(json: JSONValue, path: String) throws {
        guard case .object(let o) = json else { throw GLiClassError("\(path): not a JSON object") }
        original = o
        func fail(_ m: String) -> GLiClassError { GLiClassError("\(path): \(m)") }
        guard let enc = o["encoder_config"], case .object = enc else {
            throw fail("no encoder_config (not a GLiClass uni-encoder checkpoint?)")
        }
        encoderConfig = enc
        let arch = o["architecture_type"]?.stringValue ?? "uni-encoder"
        guard arch == "uni-encoder" else {
            throw fail("architecture_type '\(arch)' is not supported (this port runs the uni-encoder architecture)")
        }
        func int(_ k: String) throws -> Int? {
            guard let v = o[k], !v.isNull else { return nil }
            guard let n = try? v.numberValue?.int() else { throw fail("'\(k)' must be an integer, got \(v)") }
            return n
        }
        func float(_ k: String) throws -> Float? {
            guard let v = o[k], !v.isNull else { return nil }
            guard let n = try? v.numberValue?.float() else { throw fail("'\(k)' must be a number, got \(v)") }
            return n
        }
        func bool(_ k: String) throws -> Bool? {
            guard let v = o[k], !v.isNull else { return nil }
            guard let b = v.boolValue else { throw fail("'\(k)' must be true or false, got \(v)") }
            return b
        }
        func choice<E: RawRepresentable & CaseIterable>(_ k: String, _: E.Type) throws -> E? where E.RawValue == String {
            guard let v = o[k], !v.isNull else { return nil }
            guard let s = v.stringValue, let e = E(rawValue: s) else {
                throw fail("'\(k)' must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got \(v)")
            }
            return e
        }
        let encHidden = (try? enc["hidden_size"]?.numberValue?.int()) ?? nil
        guard let encHidden, encHidden > 0 else { throw fail("encoder_config has no hidden_size") }
        vocabSize = try int("vocab_size") ?? ((try? enc["vocab_size"]?.numberValue?.int()) ?? nil) ?? 0
        guard vocabSize > 0 else { throw fail("no vocab_size") }
        classTokenIndex = try int("class_token_index").flatMap { $0 == -1 ? nil : $0 } ?? vocabSize
        textTokenIndex = try int("text_token_index").flatMap { $0 == -1 ? nil : $0 } ?? vocabSize + 1
        exampleTokenIndex = try int("example_token_index").flatMap { $0 == -1 ? nil : $0 } ?? vocabSize + 2
        ignoreIndex = try int("ignore_index") ?? ignoreIndex
        hiddenSize = try int("hidden_size") ?? encHidden
        encoderModelName = o["encoder_model_name"]?.stringValue
        projectorHiddenAct = o["projector_hidden_act"]?.stringValue ?? projectorHiddenAct
        problemType = try choice("problem_type", ProblemType.self) ?? problemType
        maxNumClasses = try int("max_num_classes") ?? maxNumClasses
        useLSTM = try bool("use_lstm") ?? useLSTM
        initializerRange = try float("initializer_range") ?? initializerRange
        scorerType = try choice("scorer_type", ScorerType.self) ?? scorerType
        scorerNumHeads = try int("scorer_num_heads") ?? scorerNumHeads
        scorerMLPHiddenSize = try int("scorer_mlp_hidden_size") ?? scorerMLPHiddenSize
        scorerAttnDropout = try float("scorer_attn_dropout") ?? scorerAttnDropout
        poolingStrategy = try choice("pooling_strategy", TextPooling.self) ?? poolingStrategy
        classTokenPooling = try choice("class_token_pooling", ClassPooling.self) ?? classTokenPooling
        focalLossAlpha = try float("focal_loss_alpha") ?? focalLossAlpha
        focalLossGamma = try float("focal_loss_gamma") ?? focalLossGamma
        focalLossReduction = o["focal_loss_reduction"]?.stringValue
        logitScaleInitValue = try float("logit_scale_init_value") ?? logitScaleInitValue
        normalizeFeatures = try bool("normalize_features") ?? normalizeFeatures
        extractTextFeatures = try bool("extract_text_features") ?? extractTextFeatures
        maxLabelsAlloc = o["max_labels_alloc"] ?? maxLabelsAlloc
        contrastiveLossCoef = try float("contrastive_loss_coef") ?? contrastiveLossCoef
        promptFirst = try bool("prompt_first") ?? promptFirst
        squeezeLayers = try bool("squeeze_layers") ?? squeezeLayers
        layerWise = try bool("layer_wise") ?? layerWise
        encoderLayerId = try int("encoder_layer_id") ?? encoderLayerId
        embedClassToken = try bool("embed_class_token") ?? embedClassToken
        dropout = try float("dropout") ?? dropout
        useSegmentEmbeddings = try bool("use_segment_embeddings") ?? useSegmentEmbeddings
        if try bool("use_calibrator") == true { throw fail("use_calibrator: the post-hoc calibrator is not supported") }
        if try bool("multimodal") == true { throw fail("multimodal checkpoints are not supported") }
        try validate(path: path)
    }

    public static func load(path: String) throws -> GLiClassConfig {
        let file = try ConfigFile.read(path)
        return try GLiClassConfig(json: try file.json(), path: path)
    }

    /// Sizes that would otherwise reach the layers unchecked.
    public func validate(path: String) throws {
        func fail(_ m: String) -> GLiClassError { GLiClassError("\(path): \(m)") }
        let d = encoderHiddenSize
        guard hiddenSize > 0, hiddenSize <= 1 << 16 else { throw fail("hidden_size \(hiddenSize) out of range") }
        guard projectorHiddenAct == "gelu" || activation(named: projectorHiddenAct) != nil else {
            throw fail("projector_hidden_act '\(projectorHiddenAct)' is not supported")
        }
        for (name, id) in [("class_token_index", classTokenIndex), ("text_token_index", textTokenIndex), ("example_token_index", exampleTokenIndex)]
            where id < 0 || id >= vocabSize {
            throw fail("\(name) \(id) is outside the vocabulary (vocab_size \(vocabSize))")
        }
        guard maxNumClasses > 0, maxNumClasses <= 1 << 16 else { throw fail("max_num_classes \(maxNumClasses) out of range") }
        if (scorerType != .simple || useLSTM) && hiddenSize != d {
            throw fail("hidden_size \(hiddenSize) ≠ the encoder's \(d): the reference sizes its scorers and LSTM by hidden_size but feeds them encoder-wide vectors")
        }
        if scorerType == .crossAttn {
            guard scorerNumHeads > 0, d % scorerNumHeads == 0 else {
                throw fail("cross-attn scorer: hidden size \(d) is not divisible by scorer_num_heads \(scorerNumHeads)")
            }
            guard poolingStrategy == .pass else { throw fail("the cross-attn scorer needs pooling_strategy 'pass' (token states)") }
            guard scorerMLPHiddenSize >= 2, scorerMLPHiddenSize <= 1 << 16 else { throw fail("scorer_mlp_hidden_size \(scorerMLPHiddenSize) out of range") }
        } else if poolingStrategy == .pass {
            throw fail("pooling_strategy 'pass' keeps token states: only the cross-attn scorer takes them")
        }
        if let reduction = focalLossReduction, !["none", "mean", "sum"].contains(reduction) {
            throw fail("focal_loss_reduction must be none, mean or sum, got '\(reduction)'")
        }
        if let n = maxLabelsAlloc.numberValue {
            guard let k = try? n.int(), k > 0, k <= 1 << 16 else { throw fail("max_labels_alloc \(n) out of range") }
        } else if let s = maxLabelsAlloc.stringValue, s != "dynamic" && s != "fixed" {
            throw fail("max_labels_alloc must be dynamic, fixed or a number, got '\(s)'")
        }
        let layers = (try? encoderConfig["num_hidden_layers"]?.numberValue?.int()) ?? nil ?? 0
        guard encoderLayerId == -1 || (encoderLayerId >= -(layers + 1) && encoderLayerId <= layers) else {
            throw fail("encoder_layer_id \(encoderLayerId) is outside the \(layers + 1) hidden states")
        }
        guard dropout >= 0, dropout < 1, scorerAttnDropout >= 0, scorerAttnDropout < 1 else { throw fail("dropout must be in [0, 1)") }
    }

    /// Label slots for a batch whose records have `labelCounts` labels (the collator's and pipeline's K).
    public func labelSlots(_ labelCounts: [Int]) -> Int {
        if let n = maxLabelsAlloc.numberValue, let k = try? n.int() { return Swift.max(k, labelCounts.max() ?? 0) }
        if maxLabelsAlloc.stringValue == "fixed" { return Swift.max(maxNumClasses, labelCounts.max() ?? 0) }
        return Swift.max(labelCounts.max() ?? 1, 1)
    }

    /// The config.json the reference writes (its keys; fields not interpreted here as they were read).
    public var json: JSONValue {
        var o = original
        func num(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        func num(_ v: Float) -> JSONValue { JSONValue(v) ?? .null }
        o["model_type"] = "GLiClass"
        o["architectures"] = ["GLiClassModel"]
        o["architecture_type"] = "uni-encoder"
        o["encoder_config"] = encoderConfig
        o["encoder_model_name"] = encoderModelName.map { .string($0) } ?? .null
        o["class_token_index"] = num(classTokenIndex)
        o["text_token_index"] = num(textTokenIndex)
        o["example_token_index"] = num(exampleTokenIndex)
        o["ignore_index"] = num(ignoreIndex)
        o["hidden_size"] = num(hiddenSize)
        o["projector_hidden_act"] = .string(projectorHiddenAct)
        o["vocab_size"] = num(vocabSize)
        o["problem_type"] = .string(problemType.rawValue)
        o["max_num_classes"] = num(maxNumClasses)
        o["use_lstm"] = .bool(useLSTM)
        o["initializer_range"] = num(initializerRange)
        o["scorer_type"] = .string(scorerType.rawValue)
        o["scorer_num_heads"] = num(scorerNumHeads)
        o["scorer_mlp_hidden_size"] = num(scorerMLPHiddenSize)
        o["scorer_attn_dropout"] = num(scorerAttnDropout)
        o["pooling_strategy"] = .string(poolingStrategy.rawValue)
        o["class_token_pooling"] = .string(classTokenPooling.rawValue)
        o["focal_loss_alpha"] = num(focalLossAlpha)
        o["focal_loss_gamma"] = num(focalLossGamma)
        o["focal_loss_reduction"] = focalLossReduction.map { .string($0) } ?? .null
        o["logit_scale_init_value"] = num(logitScaleInitValue)
        o["normalize_features"] = .bool(normalizeFeatures)
        o["extract_text_features"] = .bool(extractTextFeatures)
        o["max_labels_alloc"] = maxLabelsAlloc
        o["contrastive_loss_coef"] = num(contrastiveLossCoef)
        o["prompt_first"] = .bool(promptFirst)
        o["squeeze_layers"] = .bool(squeezeLayers)
        o["layer_wise"] = .bool(layerWise)
        o["encoder_layer_id"] = num(encoderLayerId)
        o["embed_class_token"] = .bool(embedClassToken)
        o["dropout"] = num(dropout)
        o["use_segment_embeddings"] = .bool(useSegmentEmbeddings)
        if o["pad_token_id"] == nil { o["pad_token_id"] = encoderConfig["pad_token_id"] ?? .null }
        return .object(o)
    }
}

public struct GLiClassError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
