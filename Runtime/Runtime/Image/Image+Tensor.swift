// Image <-> Tensor: 8-bit HWC pixels to Float32 [H, W, C] in [0, 1] and back.
//
// The forward map is v / 255 (as torchvision's ToTensor, but keeping HWC order; permute for CHW).
// The way back clamps to [0, 1] (NaN becomes 0) and rounds v * 255 to the nearest byte, so
// Image(tensor: Tensor(image: im)) == im exactly.
import Foundation

extension Tensor {
    /// x: [H, W, C] with values v / 255 in [0, 1].
    public convenience init(image: Image) {
        self.init(uninitializedShape: [image.height, image.width, image.channels])
        let dst = data
        image.pixels.withUnsafeBufferPointer { src in
            for i in 0..<src.count { dst[i] = Float(src[i]) / 255 }
        }
    }
}

extension Image {
    /// From x: [H, W, C] (C = 1, 3 or 4) or [H, W] (gray); values are clamped to [0, 1] and rounded
    /// to 8 bits.
    public init(tensor x: Tensor) {
        // invariant: callers pass tensors they shaped themselves (a caller's error, not the data's).
        precondition(x.rank == 2 || x.rank == 3, "Image(tensor:): expected [H, W, C] or [H, W], got \(x.shape)")
        let c = x.rank == 3 ? x.shape[2] : 1
        precondition([1, 3, 4].contains(c), "Image(tensor:): \(c) channels in \(x.shape) (expected 1, 3 or 4)")
        let src = x.data
        let pixels = [UInt8](unsafeUninitializedCapacity: x.count) { dst, initialized in
            for i in 0..<x.count {
                let v = src[i]
                // v >= 0 is false for NaN, which therefore maps to 0.
                let clamped: Float = v >= 0 ? min(v, 1) : 0
                dst[i] = UInt8(clamped * 255 + 0.5)
            }
            initialized = x.count
        }
        self.init(width: x.shape[1], height: x.shape[0], channels: c, pixels: pixels)
    }
}

/// Reads a PNG or JPEG file as x: [H, W, C] in [0, 1] (C = 1, 3 or 4).
public func loadImage(_ path: String) throws -> Tensor {
    Tensor(image: try Image(contentsOf: path))
}
