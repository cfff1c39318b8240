// Image: an 8-bit picture in memory, decoded from PNG or JPEG and encoded to PNG.
//
// pixels: [height, width, channels] bytes, row-major, channels interleaved (HWC), channels 1 (gray),
// 3 (RGB) or 4 (RGBA). Decoding normalizes every PNG and JPEG variant to one of those three layouts:
// palette -> RGB (RGBA with a tRNS chunk), gray+alpha -> RGBA, 16-bit -> 8-bit (rounded), CMYK -> RGB.
// The work is done by libpng and libjpeg through CImageIO, which turns their longjmp errors into a
// status and a message; a damaged file is an ImageError here, never a crash or a line on stderr.
//
//     let im = try Image(contentsOf: "photo.jpg")    // format from the file's signature
//     try im.writePNG(to: "out.png")                  // atomic: temp file in the same folder, rename
import CImageIO
import Foundation

/// Why an image could not be read, decoded, encoded or written. The description names the path
/// (when there is one) and the problem: "cannot read image photo.png: file is truncated".
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public enum Operation: String, Sendable { case read, decode, encode, write }
    public let operation: Operation
    /// The file involved, or nil for in-memory data.
    public let path: String?
    /// What went wrong, e.g. "file is truncated", "IDAT: CRC error", "No such file or directory".
    public let reason: String

    public init(_ operation: Operation, path: String?, _ reason: String) {
        self.operation = operation
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch (operation, path) {
        case (.read, let p?), (.decode, let p?): return "cannot read image \(p): \(reason)"
        case (.write, let p?), (.encode, let p?): return "cannot write image \(p): \(reason)"
        case (.read, nil), (.decode, nil): return "cannot decode image: \(reason)"
        case (.write, nil), (.encode, nil): return "cannot encode PNG: \(reason)"
        }
    }
}

public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// pixels: [height, width, channels], row-major.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        // invariant: decoded images come from CImageIO, which returns 1, 3 or 4 channels and w·h·c
        // bytes (libpng/libjpeg errors are ImageErrors); other callers build their own pixels.
        precondition(width >= 0 && height >= 0, "Image: negative size \(width)x\(height)")
        precondition([1, 3, 4].contains(channels), "Image: \(channels) channels (expected 1, 3 or 4)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) bytes for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The byte at row y, column x, channel c.
    @inline(__always) public subscript(y: Int, x: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}

// MARK: decoding

extension Image {
    public enum Format: String, Sendable { case png, jpeg }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// The format named by the first bytes, or nil (the file extension is never consulted).
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: pngSignature) { return .png }
        if bytes.starts(with: jpegSignature) { return .jpeg }
        return nil
    }

    /// Reads a PNG or JPEG file, recognized by its signature.
    public init(contentsOf path: String) throws {
        let bytes = try readFile(path)
        try self.init(decoding: bytes, path: path)
    }

    /// Decodes PNG or JPEG bytes, recognized by their signature; `path` only labels errors.
    public init(decoding bytes: [UInt8], path: String? = nil) throws {
        guard let format = Image.format(of: bytes) else {
            let reason: String
            if bytes.isEmpty {
                reason = "file is empty"
            } else if Image.pngSignature.starts(with: bytes) || Image.jpegSignature.starts(with: bytes) {
                reason = "file is truncated"  // a prefix of a signature
            } else {
                reason = "not a PNG or JPEG file"
            }
            throw ImageError(.decode, path: path, reason)
        }
        self = try Image.decode(bytes, as: format, path: path)
    }

    public init(png bytes: [UInt8]) throws {
        self = try Image.decode(bytes, as: .png, path: nil)
    }

    public init(jpeg bytes: [UInt8]) throws {
        self = try Image.decode(bytes, as: .jpeg, path: nil)
    }

    static func decode(_ bytes: [UInt8], as format: Format, path: String?) throws -> Image {
        var out = imageio_image()
        var err = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in
                switch format {
                case .png: return imageio_png_decode(src.baseAddress, src.count, &out, e.baseAddress, e.count)
                case .jpeg: return imageio_jpeg_decode(src.baseAddress, src.count, &out, e.baseAddress, e.count)
                }
            }
        }
        guard status == 0 else {
            let reason = String(cString: err)
            throw ImageError(.decode, path: path, reason.isEmpty ? "\(format.rawValue) decoder failed" : reason)
        }
        defer { imageio_free(out.pixels) }
        let w = Int(out.width), h = Int(out.height), c = Int(out.channels)
        let n = w * h * c
        let pixels = n == 0 ? [] : Array(UnsafeBufferPointer(start: out.pixels, count: n))
        return Image(width: w, height: h, channels: c, pixels: pixels)
    }
}

// MARK: encoding

extension Image {
    /// PNG bytes: 8-bit gray, RGB or RGBA as `channels` says, not interlaced.
    public func pngData() throws -> [UInt8] {
        try encodePNG(path: nil)
    }

    /// Writes a PNG atomically: into a temporary file in the same folder, then renamed over `path`,
    /// so a reader never sees half a file and a failed write leaves any old file in place.
    public func writePNG(to path: String) throws {
        let bytes = try encodePNG(path: path)
        do { try writeFile(bytes, to: path) } catch let e as FileWriteError { throw ImageError(.write, path: path, e.problem) }
    }

    func encodePNG(path: String?) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        var err = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in
                imageio_png_encode(src.baseAddress, Int32(clamping: width), Int32(clamping: height),
                                   Int32(channels), &out, &len, e.baseAddress, e.count)
            }
        }
        defer { imageio_free(out) }
        guard status == 0, let out else {
            throw ImageError(.encode, path: path, String(cString: err))
        }
        return Array(UnsafeBufferPointer(start: out, count: len))
    }
}

// MARK: files

/// The whole file as bytes; errors carry the system's reason ("No such file or directory").
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ImageError(.read, path: path, String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    var bytes = [UInt8]()
    if fstat(fd, &st) == 0, st.st_size > 0 { bytes.reserveCapacity(Int(st.st_size)) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ImageError(.read, path: path, String(cString: strerror(errno)))
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

