// Images as JSON Lines records, the form nd-kd's programs chain through:
//
//   {"pixels": [784 integers 0…255], "shape": [1, 28, 28], "label": 9}     (raw pixels, CHW order)
//   {"image": "photos/cat.png", "label": "Bag"}                              (a PNG or JPEG file)
//
// `nd-kd images` writes the first form from an IDX set; `predict` and `eval` read either. A label is
// a class index or a class name. Pixels are bytes as in the files (0…255), scaled to [0, 1] here.
import Foundation
import Runtime

public let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

/// Image `index` of `set` as a record.
public func imageRecord(_ set: ImageSet, _ index: Int, classNames: [String]?) -> Record {
    var r = Record()
    r.set("index", int: index)
    r.set("label", int: set.labels[index])
    if let names = classNames, set.labels[index] < names.count { r.set("class", string: names[set.labels[index]]) }
    r.set("shape", ints: set.shape)
    let n = set.shape.reduce(1, *), p = set.images.data + index * n
    r.set("pixels", ints: (0..<n).map { Int((p[$0] * 255).rounded()) })
    return r
}

/// A record's image as [C·H·W] values in [0, 1], for a model taking `input` = [C, H, W].
public func recordPixels(_ r: Record, input: [Int], pixelsField: String = "pixels", imageField: String = "image") throws -> [Float] {
    let n = input.reduce(1, *)
    if r.has(pixelsField) {
        let v = try r.floats(pixelsField)
        if r.has("shape") {
            let shape = try r.ints("shape")
            guard shape == input || (shape.count == 2 && input[0] == 1 && shape == Array(input[1...])) else {
                throw RecordError.field("shape", "\(shape), the model takes \(input)")
            }
        }
        guard v.count == n else { throw RecordError.field(pixelsField, "\(v.count) values, the model takes \(input) = \(n)") }
        guard v.allSatisfy({ $0 >= 0 && $0 <= 255 }) else { throw RecordError.field(pixelsField, "values must be in 0…255") }
        return v.map { $0 / 255 }
    }
    guard r.has(imageField) else { throw RecordError("no '\(pixelsField)' or '\(imageField)' field") }
    let path = try r.string(imageField)
    let image: Image
    do { image = try Image(contentsOf: path) } catch { throw RecordError.field(imageField, "\(error)") }
    guard image.height == input[1] && image.width == input[2] else {
        throw RecordError.field(imageField, "\(path) is \(image.width)×\(image.height), the model takes \(input[2])×\(input[1])")
    }
    let t = Tensor(image: image)  // [H, W, C'] in [0, 1]
    let (h, w, c) = (input[1], input[2], input[0]), have = image.channels
    var out = [Float](repeating: 0, count: n)
    for y in 0..<h { for x in 0..<w {
        let px = t.data + (y * w + x) * have
        // Gray from colour as Pillow's convert("L") (ITU-R 601-2 luma); colour from gray by repetition.
        let gray = have >= 3 ? (px[0] * 299 + px[1] * 587 + px[2] * 114) / 1000 : px[0]
        for ch in 0..<c { out[(ch * h + y) * w + x] = c == 1 ? gray : (have >= 3 ? px[ch] : px[0]) }
    } }
    return out
}

/// A record's label as a class index (an integer, or one of `classNames`).
/// A record's class: an index, or a name among `classNames`. Without names (nil) any non-negative index
/// is taken (the number of classes then follows the data).
public func recordLabel(_ r: Record, classNames: [String]?, field: String = "label") throws -> Int {
    guard let v = r.value(field) else { throw RecordError.missing(field) }
    if let s = v.stringValue {
        guard let names = classNames else { throw RecordError.field(field, "'\(s)' is a class name; name the classes with --class-names, or give indices") }
        guard let i = names.firstIndex(of: s) else { throw RecordError.field(field, "'\(s)' is not one of \(names)") }
        return i
    }
    let limit = classNames?.count ?? Int(Int32.max)
    guard let i = try? r.int(field), (0..<limit).contains(i) else {
        throw RecordError.field(field, classNames == nil ? "must be a class index (0 or more) or a class name" : "must be a class index in 0..<\(limit) or a class name")
    }
    return i
}

/// A labelled set from JSONL lines; errors name the line.
public func labelledSet(lines: [String], path: String, input: [Int], classNames: [String]?) throws -> ImageSet {
    var values: [Float] = [], labels: [Int] = []
    for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        do {
            let r = try Record(parsing: line)
            values += try recordPixels(r, input: input)
            labels.append(try recordLabel(r, classNames: classNames))
        } catch {
            throw DataError(description: "\(path):\(i + 1): \(error)")
        }
    }
    guard !labels.isEmpty else { throw DataError(description: "\(path): no records") }
    return ImageSet(images: Tensor(shape: [labels.count] + input, scalars: values), labels: labels)
}
