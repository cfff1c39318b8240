// Labelled image sets as nd-kd reads them: IDX pairs (MNIST/Fashion-MNIST layout, plain or .gz) or
// JSON Lines records with an image file or raw pixels; the per-channel normalization; and the
// training augmentation (zero padding + random crop, horizontal flip), drawn from (seed, epoch,
// index) so a resumed run sees the same images as one never stopped.
//
// images: [N, C, H, W], values v/255 in [0, 1] (torchvision's ToTensor); normalized on use as
// (x − mean_c)/std_c (Normalize), after augmentation, as the reference's transform chain does.
import Foundation
import Runtime

public struct ImageSet {
    public var images: Tensor
    public var labels: [Int]

    public init(images: Tensor, labels: [Int]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "ImageSet: images \(images.shape) for \(labels.count) labels")
        self.images = images
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var shape: [Int] { Array(images.shape.dropFirst()) }

    /// Rows `indices` as a new set.
    public func subset(_ indices: [Int]) -> ImageSet {
        ImageSet(images: images.indexSelect(axis: 0, indices), labels: indices.map { labels[$0] })
    }

    /// The IDX pair of `split` ("train" or "t10k"/"test") in a directory of the MNIST layout:
    /// <split>-images-idx3-ubyte[.gz] and <split>-labels-idx1-ubyte[.gz].
    public static func idxDirectory(_ dir: String, split: String) throws -> ImageSet {
        let prefix = split == "test" ? "t10k" : split
        func find(_ stem: String) throws -> String {
            for name in [stem, stem + ".gz"] {
                let p = (dir as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw DataError(description: "\(dir): no \(stem)[.gz] (an IDX directory holds <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte, e.g. Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist)")
        }
        return try idxPair(images: try find("\(prefix)-images-idx3-ubyte"), labels: try find("\(prefix)-labels-idx1-ubyte"))
    }

    /// An image file [N, H, W] (gray) or [N, H, W, C] and a label file [N].
    public static func idxPair(images: String, labels: String) throws -> ImageSet {
        let im = try IDXArray(contentsOf: images), lb = try IDXArray(contentsOf: labels)
        guard im.shape.count == 3 || im.shape.count == 4 else { throw DataError(description: "\(images): dimensions \(im.shape), not [N, H, W] or [N, H, W, C]") }
        guard lb.shape == [im.shape[0]] else { throw DataError(description: "\(labels): dimensions \(lb.shape) for \(im.shape[0]) images in \(images)") }
        let (n, h, w) = (im.shape[0], im.shape[1], im.shape[2]), c = im.shape.count == 4 ? im.shape[3] : 1
        let t = Tensor(uninitializedShape: [n, c, h, w])
        im.values.withUnsafeBufferPointer { src in
            for i in 0..<n { for y in 0..<h { for x in 0..<w { for ch in 0..<c {
                t.data[((i * c + ch) * h + y) * w + x] = Float(src[((i * h + y) * w + x) * c + ch]) / 255
            } } } }
        }
        return ImageSet(images: t, labels: lb.values.map(Int.init))
    }

    /// Per-channel mean and standard deviation over every pixel (population std, as the usual
    /// "compute your data set's Normalize constants" loop does).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let (n, c) = (images.shape[0], images.shape[1]), plane = images.shape[2] * images.shape[3]
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            var s = 0.0, s2 = 0.0
            for i in 0..<n {
                let p = images.data + (i * c + ch) * plane
                for j in 0..<plane { let v = Double(p[j]); s += v; s2 += v * v }
            }
            let m = s / Double(n * plane)
            mean.append(Float(m))
            std.append(Float(max(s2 / Double(n * plane) - m * m, 0).squareRoot()))
        }
        return (mean, std)
    }
}

/// One image's view: the crop's offsets in the padded image (padding, padding: the image itself) and the flip.
public struct View: Sendable, Equatable {
    public var dy: Int, dx: Int, flipped: Bool
    public init(dy: Int, dx: Int, flipped: Bool) { (self.dy, self.dx, self.flipped) = (dy, dx, flipped) }
}

/// Train-time augmentation: zero padding then a random crop back to the input size, and a horizontal
/// flip with probability ½ (torchvision's RandomCrop(size, padding) and RandomHorizontalFlip).
public struct Augmentation: Equatable, Sendable {
    public var padding: Int
    public var flip: Bool
    public init(padding: Int, flip: Bool) { (self.padding, self.flip) = (padding, flip) }
    public static let none = Augmentation(padding: 0, flip: false)

    /// The view of image `index` in `epoch`: crop offsets in 0…2·padding and the flip.
    public func draw(seed: UInt64, epoch: Int, index: Int) -> View {
        guard padding > 0 || flip else { return View(dy: padding, dx: padding, flipped: false) }
        let u = RandomGenerator(seed: seed, stream: 0xA0_0000_0000 | UInt64(epoch), offset: UInt64(index) * 4).uniform([3])
        let span = Float(2 * padding + 1)
        let dy = min(Int(u.data[0] * span), 2 * padding), dx = min(Int(u.data[1] * span), 2 * padding)
        return View(dy: dy, dx: dx, flipped: flip && u.data[2] < 0.5)
    }
}

/// A batch: images `indices` of `set`, each viewed through (dy, dx, flipped) (dy = dx = padding and no
/// flip is the image itself), then normalized. → [B, C, H, W].
public func makeBatch(_ set: ImageSet, _ indices: [Int], views: [View]? = nil,
                      padding: Int = 0, mean: [Float], std: [Float]) -> Tensor {
    let (c, h, w) = (set.images.shape[1], set.images.shape[2], set.images.shape[3])
    let out = Tensor(uninitializedShape: [indices.count, c, h, w])
    for (b, i) in indices.enumerated() {
        let v = views?[b] ?? View(dy: padding, dx: padding, flipped: false)
        for ch in 0..<c {
            let src = set.images.data + (i * c + ch) * h * w, dst = out.data + (b * c + ch) * h * w
            let (m, s) = (mean[ch], std[ch])
            for y in 0..<h {
                let sy = y + v.dy - padding
                for x in 0..<w {
                    let xx = v.flipped ? w - 1 - x : x
                    let sx = xx + v.dx - padding
                    let raw: Float = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[sy * w + sx] : 0
                    dst[y * w + x] = (raw - m) / s
                }
            }
        }
    }
    return out
}
