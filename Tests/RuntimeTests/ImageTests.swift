// Image I/O: every fixture in data/images/ decodes to the pixels Pillow gives (PNG exactly, JPEG within
// the tolerance in fixtures.json); PNG encode/decode and tensor conversion round-trip; truncated,
// corrupted and non-image input is an ImageError naming the path, with nothing printed on stderr.
// Fixtures and reference pixels: scripts/make_image_fixtures.py.
import Foundation
import XCTest
@testable import Runtime

final class ImageTests: XCTestCase {
    struct Fixture: Decodable {
        let file, expected, what: String
        let width, height, channels, tolerance: Int
    }

    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/images")

    func fixtures() throws -> [Fixture] {
        let json = try Data(contentsOf: Self.dir.appendingPathComponent("fixtures.json"))
        return try JSONDecoder().decode([Fixture].self, from: json)
    }

    func path(_ name: String) -> String { Self.dir.appendingPathComponent(name).path }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Self.dir.appendingPathComponent(name))) }

    /// A fresh temporary directory, removed after the test.
    func tempDir() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imagetests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Runs body with file descriptor 2 sent to a file; returns what was written there.
    func capturingStderr(_ body: () throws -> Void) rethrows -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_WRONLY)
        let saved = dup(2)
        fflush(stderr)
        dup2(fd, 2)
        defer {
            fflush(stderr)
            dup2(saved, 2)
            close(saved)
            close(fd)
        }
        try body()
        fflush(stderr)
        return (try? String(contentsOf: url, encoding: .utf8)) ?? "<unreadable>"
    }

    func testStderrCaptureSeesCWrites() {
        let seen = capturingStderr { fputs("probe\n", stderr) }
        XCTAssertEqual(seen, "probe\n", "the stderr checks below would be vacuous")
    }

    /// Deterministic bytes for round trips (a 64-bit LCG).
    func noise(_ n: Int, seed: UInt64) -> [UInt8] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: s >> 56)
        }
    }

    // MARK: decoding against Pillow

    func testEveryFixtureMatchesPillow() throws {
        let all = try fixtures()
        XCTAssertGreaterThanOrEqual(all.count, 19)
        for f in all {
            let im = try Image(contentsOf: path(f.file))
            XCTAssertEqual([im.height, im.width, im.channels], [f.height, f.width, f.channels], f.file)
            let want = try bytes(f.expected)
            XCTAssertEqual(im.pixels.count, want.count, f.file)
            guard im.pixels.count == want.count else { continue }
            var maxDiff = 0, differing = 0
            var first: [String] = []
            for i in 0..<want.count where im.pixels[i] != want[i] {
                let d = abs(Int(im.pixels[i]) - Int(want[i]))
                maxDiff = max(maxDiff, d)
                differing += 1
                if first.count < 5 {
                    let c = i % f.channels, x = (i / f.channels) % f.width, y = i / f.channels / f.width
                    first.append("(y \(y), x \(x), c \(c)): ours \(im.pixels[i]), Pillow \(want[i])")
                }
            }
            print("ImageTests: \(f.file) (\(f.what)): max diff \(maxDiff), \(differing)/\(want.count) bytes differ")
            XCTAssertLessThanOrEqual(maxDiff, f.tolerance,
                                     "\(f.file): \(differing) bytes differ, first: \(first.joined(separator: "; "))")
        }
    }

    func testFormatComesFromSignatureNotExtension() throws {
        let dir = try tempDir()
        let png = try bytes("rgb.png"), jpeg = try bytes("rgb_baseline.jpg")
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/really-a-png.jpg", contents: Data(png)))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/really-a-jpeg.png", contents: Data(jpeg)))
        XCTAssertEqual(try Image(contentsOf: dir + "/really-a-png.jpg"), try Image(png: png))
        XCTAssertEqual(try Image(contentsOf: dir + "/really-a-jpeg.png"), try Image(jpeg: jpeg))
        XCTAssertEqual(Image.format(of: png), .png)
        XCTAssertEqual(Image.format(of: jpeg), .jpeg)
        XCTAssertThrowsError(try Image(png: jpeg)) { XCTAssertTrue("\($0)".contains("not a PNG file"), "\($0)") }
        XCTAssertThrowsError(try Image(jpeg: png)) { XCTAssertTrue("\($0)".contains("not a JPEG file"), "\($0)") }
    }

    // MARK: encoding

    func testPNGRoundTripIsBitExact() throws {
        for channels in [1, 3, 4] {
            for (w, h) in [(1, 1), (17, 13), (64, 3)] {
                let im = Image(width: w, height: h, channels: channels,
                               pixels: noise(w * h * channels, seed: UInt64(channels * 1000 + w)))
                let data = try im.pngData()
                XCTAssertEqual(Image.format(of: data), .png)
                XCTAssertEqual(try Image(png: data), im, "\(w)x\(h)x\(channels)")
            }
        }
        // Decoded fixtures re-encode to the same pixels (gray, RGB, RGBA from palette and gray+alpha).
        for name in ["gray.png", "palette.png", "palette_trns.png", "gray_alpha.png", "photo.jpg"] {
            let im = try Image(contentsOf: path(name))
            XCTAssertEqual(try Image(png: im.pngData()), im, name)
        }
    }

    func testWritePNGIsAtomicAndOverwrites() throws {
        let dir = try tempDir()
        let target = dir + "/out.png"
        let a = try Image(contentsOf: path("rgba.png")), b = try Image(contentsOf: path("gray.png"))
        try a.writePNG(to: target)
        XCTAssertEqual(try Image(contentsOf: target), a)
        try b.writePNG(to: target)
        XCTAssertEqual(try Image(contentsOf: target), b)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"], "no temporary left")

        XCTAssertThrowsError(try a.writePNG(to: dir + "/missing/out.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write image \(dir)/missing/out.png: "), "\(error)")
        }
        let empty = Image(width: 0, height: 0, channels: 3, pixels: [])
        XCTAssertThrowsError(try empty.writePNG(to: dir + "/empty.png")) { print("ImageTests: \($0)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"])
    }

    // MARK: tensors

    func testTensorRoundTrip() throws {
        for name in ["gray.png", "rgb.png", "rgba.png", "photo.jpg"] {
            let im = try Image(contentsOf: path(name))
            let x = Tensor(image: im)
            XCTAssertEqual(x.shape, [im.height, im.width, im.channels])
            XCTAssertEqual(x.scalars, im.pixels.map { Float($0) / 255 }, name)
            XCTAssertEqual(Image(tensor: x), im, name)
            XCTAssertEqual(try loadImage(path(name)).scalars, x.scalars, name)
        }
        // Every byte value survives, in all three layouts.
        let all = (0..<256).map { Float($0) / 255 }
        XCTAssertEqual(Image(tensor: Tensor(shape: [16, 16], scalars: all)).pixels, (0...255).map { UInt8($0) })
        XCTAssertEqual(Image(tensor: Tensor(shape: [4, 16, 4], scalars: all)).channels, 4)
    }

    func testTensorToImageClampsAndRounds() {
        let x = Tensor(shape: [1, 7], scalars: [-0.5, 0, 0.5, 0.998, 1, 3, .nan])
        let im = Image(tensor: x)  // [H, W] is gray
        XCTAssertEqual([im.height, im.width, im.channels], [1, 7, 1])
        XCTAssertEqual(im.pixels, [0, 0, 128, 254, 255, 255, 0])
        let rgb = Image(tensor: Tensor(shape: [1, 2, 3], scalars: [0.1, 0.2, 0.3, 1.5, -1, 0.501]))
        XCTAssertEqual(rgb.pixels, [26, 51, 77, 255, 0, 128])
        XCTAssertEqual(rgb[0, 1, 2], 128)
    }

    // MARK: errors

    func testMissingFileNamesThePath() {
        let p = "/nonexistent-dir/photo.png"
        XCTAssertThrowsError(try Image(contentsOf: p)) { error in
            XCTAssertEqual("\(error)", "cannot read image \(p): No such file or directory")
        }
        XCTAssertThrowsError(try loadImage(p)) { XCTAssertEqual(($0 as? ImageError)?.path, p) }
        XCTAssertThrowsError(try Image(contentsOf: Self.dir.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot read image \(Self.dir.path): "), "\(error)")
        }
    }

    func testEmptyAndNonImageFiles() throws {
        let dir = try tempDir()
        let cases: [(String, [UInt8], String)] = [
            ("empty.png", [], "file is empty"),
            ("notes.png", Array("hello, world\n".utf8), "not a PNG or JPEG file"),
            ("cut.png", [0x89, 0x50, 0x4E], "file is truncated"),
            ("cut.jpg", [0xFF, 0xD8], "file is truncated"),
        ]
        for (name, content, reason) in cases {
            XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(content)))
            XCTAssertThrowsError(try Image(contentsOf: dir + "/" + name)) { error in
                XCTAssertEqual("\(error)", "cannot read image \(dir)/\(name): \(reason)")
            }
        }
        XCTAssertThrowsError(try Image(png: [])) { XCTAssertEqual("\($0)", "cannot decode image: not a PNG file (bad signature)") }
        XCTAssertThrowsError(try Image(jpeg: [])) { XCTAssertEqual("\($0)", "cannot decode image: not a JPEG file (no SOI marker)") }
    }

    func testTruncatedFilesAreCleanErrors() throws {
        let dir = try tempDir()
        let output = try capturingStderr {
            for f in try fixtures() {
                let full = try bytes(f.file)
                for cut in [0, 8, full.count / 2, full.count - 1] {
                    let p = "\(dir)/cut-\(cut)-\(f.file)"
                    XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(full[0..<cut])))
                    XCTAssertThrowsError(try Image(contentsOf: p), "\(f.file) cut at \(cut)") { error in
                        let reason = cut == 0 ? "file is empty" : "file is truncated"
                        XCTAssertEqual("\(error)", "cannot read image \(p): \(reason)")
                    }
                }
            }
        }
        XCTAssertEqual(output, "", "the libraries printed on stderr")
    }

    func testBadCRCInCriticalChunks() throws {
        // Offsets: 8 signature, then IHDR (length 4, type 4, data 13, CRC 4) at 8...32.
        var png = try bytes("palette.png")
        png[19] ^= 0x01  // low byte of the width: IHDR no longer matches its CRC
        XCTAssertThrowsError(try Image(decoding: png, path: "p.png")) {
            XCTAssertEqual("\($0)", "cannot read image p.png: IHDR: CRC error")
        }
        for chunk in ["PLTE", "IDAT"] {
            var png = try bytes("palette.png")
            let at = try XCTUnwrap(findChunk(chunk, in: png))
            let length = png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
            png[at + 8 + length] ^= 0x80  // first CRC byte
            XCTAssertThrowsError(try Image(decoding: png, path: "p.png"), chunk) {
                XCTAssertEqual("\($0)", "cannot read image p.png: \(chunk): CRC error")
            }
        }
    }

    func findChunk(_ type: String, in png: [UInt8]) -> Int? {
        var at = 8
        while at + 8 <= png.count {
            let length = png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: png[at + 4..<at + 8], as: UTF8.self) == type { return at }
            at += 12 + length
        }
        return nil
    }

    func testFlippedBytesNeverCrash() throws {
        var jpegsDecoded = 0, jpegsRejected = 0
        let output = try capturingStderr {
            for f in try fixtures() {
                let full = try bytes(f.file)
                let isPNG = f.file.hasSuffix(".png")
                // Bytes in the middle, one at a time: a PNG must fail (its CRCs catch it); a JPEG has no
                // checksum and may still decode, but then with the fixture's size.
                for at in full.count / 2 - 3...full.count / 2 + 3 {
                    var bad = full
                    bad[at] ^= 0xFF
                    do {
                        let im = try Image(decoding: bad, path: f.file)
                        XCTAssertFalse(isPNG, "\(f.file): flipped byte \(at) decoded")
                        XCTAssertEqual([im.height, im.width, im.channels], [f.height, f.width, f.channels])
                        jpegsDecoded += 1
                    } catch let error as ImageError {
                        XCTAssertTrue(error.description.hasPrefix("cannot read image \(f.file): "), "\(error)")
                        if !isPNG { jpegsRejected += 1 }
                    }
                }
                // Anywhere, several bytes at once: only "no crash, no stderr" is required.
                let random = noise(400, seed: UInt64(full.count))
                for k in 0..<100 {
                    var bad = full
                    for j in 0..<4 {
                        let r = Int(random[4 * k + j]) << 8 | Int(random[(4 * k + j + 1) % 400])
                        bad[r % bad.count] ^= random[(4 * k + j + 2) % 400] | 1
                    }
                    _ = try? Image(decoding: bad, path: f.file)
                }
            }
        }
        print("ImageTests: flipped middle bytes in JPEGs: \(jpegsDecoded) decoded, \(jpegsRejected) rejected")
        XCTAssertEqual(output, "", "the libraries printed on stderr")
    }
}
