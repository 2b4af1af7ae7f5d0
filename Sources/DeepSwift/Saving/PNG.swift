import CZlib

/// A minimal PNG writer for 8-bit grayscale images (zlib-compressed, CRC-checked),
/// enough to look at what a model generates.
public enum PNG {
    /// The PNG bytes of a `width`×`height` grayscale image given row by row.
    public static func encode(gray pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "PNG.encode: \(pixels.count) pixels for a \(width)×\(height) image")
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(0)   // filter: none
            raw.append(contentsOf: pixels[(row * width)..<((row + 1) * width)])
        }
        var compressedSize = compressBound(UInt(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        guard compress2(&compressed, &compressedSize, raw, UInt(raw.count), 9) == Z_OK else {
            throw DataError.corruptGzip(file: "<png>", reason: "zlib could not compress the image")
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0]   // 8-bit depth, grayscale, deflate, no filter method, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + chunk("IDAT", Array(compressed[..<Int(compressedSize)])) + chunk("IEND", [])
    }

    /// Writes the image atomically.
    public static func write(gray pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        try writeAtomically(encode(gray: pixels, width: width, height: height), to: path)
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
}

/// Square grayscale images laid out in a grid and written as one PNG.
public enum ImageGrid {
    /// Each tensor of `rows` holds one row of the grid: images of `imageSize`²
    /// pixels in [0, 1] (any leading shape, flattened per image).
    public static func write(_ rows: [Tensor], imageSize: Int, to path: String) throws {
        let perImage = imageSize * imageSize
        let images = rows.map { $0.cast(to: .float32).reshaped(to: [-1, perImage]).clipped(min: 0, max: 1) }
        let columns = images.map { $0.shape[0] }.max() ?? 0
        let width = columns * imageSize, height = images.count * imageSize
        var pixels = [UInt8](repeating: 0, count: width * height)
        for (r, batch) in images.enumerated() {
            let values = batch.scalars(as: Float.self)
            for c in 0..<batch.shape[0] {
                for y in 0..<imageSize {
                    for x in 0..<imageSize {
                        let v = values[c * perImage + y * imageSize + x]
                        pixels[(r * imageSize + y) * width + c * imageSize + x] = UInt8((v * 255).rounded())
                    }
                }
            }
        }
        try PNG.write(gray: pixels, width: max(width, 1), height: max(height, 1), to: path)
    }
}
