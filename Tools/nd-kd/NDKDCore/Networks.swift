// The image classifiers nd-kd trains: two small families, each returning the penultimate embedding
// (after global average pooling, before the classifier) with the logits, as the reference's
// `model(x, embed=True)` does.
//
//   plain CNN  "cnn:32,M,64,M,128,128": 3×3 convolutions (padding 1, no bias) each followed by
//              BatchNorm and ReLU, "M" a 2×2 max pooling; GAP → D = last width; FC D → K.
//   CIFAR ResNet "resnet:N:w0,w1,w2,w3" (the reference's Models/resnet_cifar.py, mdistiller's):
//              conv3×3 w0 → BN → ReLU, three stages of N BasicBlocks (w1 stride 1, w2 stride 2, w3
//              stride 2; a 1×1 conv + BN shortcut where the shape changes), GAP → D = w3; FC.
//              Depth 6N+2: resnet20 N=3, resnet56 N=9, resnet8x4 N=1 with widths 32,64,128,256.
//
// Initialization as the reference: convolutions kaiming_normal(fan_out, relu) = N(0, 2/(O·kh·kw)),
// BatchNorm weight 1 and bias 0, the classifier's weight and bias N(0, 0.01²). The reference pools
// with AvgPool2d(8) on 8×8 maps, which is GAP there; GAP keeps other input sizes (28×28) valid.
//
// x: [B, C, H, W] → embedding [B, D], logits [B, K].
import Foundation
import Runtime

/// An architecture, as written on the command line and in nd_kd.json.
public enum NetSpec: Equatable, Sendable, CustomStringConvertible {
    /// Widths of 3×3 conv blocks; nil is a 2×2 max pooling.
    case cnn([Int?])
    /// BasicBlocks per stage and the widths of the stem and the three stages.
    case resnet(blocks: Int, widths: [Int])

    public static let presets: [String: String] = [
        "fmnist-teacher": "cnn:32,M,64,M,128,128", "fmnist-student": "cnn:16,M,32,M,64",
        "fmnist-student128": "cnn:16,M,32,M,128",
        "resnet8": "resnet:1:16,16,32,64", "resnet14": "resnet:2:16,16,32,64", "resnet20": "resnet:3:16,16,32,64",
        "resnet32": "resnet:5:16,16,32,64", "resnet44": "resnet:7:16,16,32,64", "resnet56": "resnet:9:16,16,32,64",
        "resnet110": "resnet:18:16,16,32,64", "resnet8x4": "resnet:1:32,64,128,256", "resnet32x4": "resnet:5:32,64,128,256",
    ]

    /// Parses a preset name or "cnn:…" / "resnet:N:…"; nil with a reason otherwise.
    public static func parse(_ text: String) throws -> NetSpec {
        let spec = presets[text] ?? text
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func bad(_ why: String) -> DataError {
            DataError(description: "architecture '\(text)': \(why) (presets: \(presets.keys.sorted().joined(separator: ", ")); or cnn:W,M,W,… or resnet:N:W0,W1,W2,W3)")
        }
        func widths(_ s: String) throws -> [Int] {
            try s.split(separator: ",").map { w in
                guard let v = Int(w), (1...4096).contains(v) else { throw bad("width '\(w)' is not a number in 1…4096") }
                return v
            }
        }
        switch parts.first {
        case "cnn":
            guard parts.count == 2 else { throw bad("cnn takes one list") }
            let layers: [Int?] = try parts[1].split(separator: ",").map { w in
                if w == "M" || w == "m" { return nil }
                guard let v = Int(w), (1...4096).contains(v) else { throw bad("'\(w)' is neither a width in 1…4096 nor M") }
                return v
            }
            guard layers.contains(where: { $0 != nil }) else { throw bad("no convolution") }
            return .cnn(layers)
        case "resnet":
            guard parts.count == 3, let n = Int(parts[1]), (1...200).contains(n) else { throw bad("resnet takes N (1…200) and four widths") }
            let w = try widths(parts[2])
            guard w.count == 4 else { throw bad("resnet takes four widths") }
            return .resnet(blocks: n, widths: w)
        default:
            throw bad("unknown")
        }
    }

    public var description: String {
        switch self {
        case .cnn(let layers): return "cnn:" + layers.map { $0.map(String.init) ?? "M" }.joined(separator: ",")
        case .resnet(let n, let w): return "resnet:\(n):" + w.map(String.init).joined(separator: ",")
        }
    }

    /// Throws unless images of `input` = [C, H, W] pass through every layer (each 2×2 pooling needs a
    /// side of at least 2; a value input from a file must never reach a kernel's precondition).
    public func check(input: [Int]) throws {
        guard input.count == 3, input.allSatisfy({ (1...4096).contains($0) }) else {
            throw DataError(description: "images of shape \(input): [C, H, W] with sides in 1…4096 are needed")
        }
        guard case .cnn(let layers) = self else { return }
        var (h, w) = (input[1], input[2])
        for layer in layers where layer == nil {
            guard h >= 2 && w >= 2 else { throw DataError(description: "\(description): images of \(input[1])×\(input[2]) are too small for its \(layers.filter { $0 == nil }.count) poolings") }
            (h, w) = (h / 2, w / 2)
        }
    }

    /// The embedding width D.
    public var embeddingWidth: Int {
        switch self {
        case .cnn(let layers): return layers.compactMap { $0 }.last!
        case .resnet(_, let w): return w[3]
        }
    }
}

/// Conv 3×3 (or 1×1) without bias, initialized kaiming_normal(fan_out, relu).
func kaimingConv(_ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int = 1, _ g: RandomGenerator) -> Conv2d {
    let conv = Conv2d(cin, cout, kernel: kernel, stride: stride, padding: kernel / 2, bias: false, generator: g)
    conv.weight = g.normal([cout, cin, kernel, kernel], std: (2 / Float(cout * kernel * kernel)).squareRoot()).requiringGrad()
    return conv
}

/// conv → BN → ReLU → conv → BN, plus the shortcut, then ReLU.
final class BasicBlock: Module {
    let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    /// The shortcut where the shape changes (named downsample.0 and .1, as the reference's).
    let shortcutConv: Conv2d?, shortcutNorm: BatchNorm?
    override var keyMap: [String: String] { ["shortcutConv": "downsample.0", "shortcutNorm": "downsample.1"] }

    init(_ cin: Int, _ cout: Int, stride: Int, _ g: RandomGenerator) {
        conv1 = kaimingConv(cin, cout, stride: stride, g)
        bn1 = BatchNorm(cout)
        conv2 = kaimingConv(cout, cout, g)
        bn2 = BatchNorm(cout)
        let changes = stride != 1 || cin != cout
        shortcutConv = changes ? kaimingConv(cin, cout, kernel: 1, stride: stride, g) : nil
        shortcutNorm = changes ? BatchNorm(cout) : nil
        super.init()
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let out = bn2(conv2(relu(bn1(conv1(x)))))
        var residual = x
        if let c = shortcutConv, let n = shortcutNorm { residual = n(c(x)) }
        return relu(out + residual)
    }
}

/// A classifier of either family: `forward` gives (embedding, logits).
public final class ImageClassifier: Module {
    public let spec: NetSpec
    let convs: [Conv2d]
    let norms: [BatchNorm]
    let blocks: [BasicBlock]
    public let fc: Linear

    public init(_ spec: NetSpec, inChannels: Int, classes: Int, generator g: RandomGenerator) {
        self.spec = spec
        switch spec {
        case .cnn(let layers):
            var c = inChannels, convs: [Conv2d] = [], norms: [BatchNorm] = []
            for w in layers.compactMap({ $0 }) {
                convs.append(kaimingConv(c, w, g))
                norms.append(BatchNorm(w))
                c = w
            }
            (self.convs, self.norms, blocks) = (convs, norms, [])
        case .resnet(let n, let w):
            (convs, norms) = ([kaimingConv(inChannels, w[0], g)], [BatchNorm(w[0])])
            var blocks: [BasicBlock] = [], c = w[0]
            for (stage, width) in w[1...].enumerated() {
                for i in 0..<n {
                    blocks.append(BasicBlock(c, width, stride: i == 0 && stage > 0 ? 2 : 1, g))
                    c = width
                }
            }
            self.blocks = blocks
        }
        let d = spec.embeddingWidth
        fc = Linear(weight: g.normal([classes, d], std: 0.01).requiringGrad(), bias: g.normal([classes], std: 0.01).requiringGrad())
        super.init()
    }

    public var classes: Int { fc.outFeatures }

    /// x: [B, C, H, W] → (embedding [B, D], logits [B, K]).
    public func forward(_ x: Tensor) -> (embedding: Tensor, logits: Tensor) {
        var h = x
        switch spec {
        case .cnn(let layers):
            var i = 0
            for layer in layers {
                if layer == nil { h = maxPool2d(h, kernel: (2, 2)); continue }
                h = relu(norms[i](convs[i](h)))
                i += 1
            }
        case .resnet:
            h = relu(norms[0](convs[0](h)))
            for b in blocks { h = b(h) }
        }
        let e = globalPool(h, mode: .average)
        return (e, fc(e))
    }
}

/// The reference's EmbTrans projector (Models/embtrans_cifar.py), used for ND only when the student's
/// embedding is narrower than the teacher's: BatchNorm1d(D_s) → Dropout(0.5) → Linear(D_s → D_t), the
/// BN's weight 1 and bias 0, the Linear's bias 0. Trained with the student and dropped at inference.
public final class Projector: Module {
    let bn: BatchNorm
    let dropout: Dropout
    let linear: Linear

    public init(from ds: Int, to dt: Int, generator g: RandomGenerator) {
        bn = BatchNorm(ds)
        dropout = Dropout(0.5)
        linear = Linear(ds, dt, generator: g)
        linear.bias = Tensor.zeros([dt]).requiringGrad()
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { linear(dropout(bn(x))) }
}
