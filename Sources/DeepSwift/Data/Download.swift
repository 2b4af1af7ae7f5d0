import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches dataset files from public mirrors and checks them against published
/// SHA-256 digests before anything reads them.
enum Download {
    /// The bytes at `url`, or nil with the reason when the network or server fails.
    static func fetch(_ url: URL, timeout: TimeInterval = 30) -> Result<[UInt8], DataError> {
        final class Box: @unchecked Sendable { var result: Result<[UInt8], DataError>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(.unreadable(file: url.absoluteString, reason: error.localizedDescription))
            } else if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                box.result = .failure(.unreadable(file: url.absoluteString, reason: "HTTP \(http.statusCode)"))
            } else {
                box.result = .success([UInt8](data ?? Data()))
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            task.cancel()
            return .failure(.unreadable(file: url.absoluteString, reason: "timed out"))
        }
        return box.result!
    }

    /// The lowercase hex SHA-256 digest of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Throws unless `bytes` have the `expected` digest.
    static func verify(_ bytes: [UInt8], sha256 expected: String, file: String) throws {
        let actual = sha256(bytes)
        guard actual == expected else { throw DataError.checksumMismatch(file: file, expected: expected, actual: actual) }
    }

    /// Downloads each `name` from the first mirror that serves it with the right
    /// digest into `directory` (atomically), or throws the reasons.
    static func files(_ checksums: [(name: String, sha256: String)], mirrors: [String], into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, digest) in checksums {
            let target = "\(directory)/\(name)"
            if FileManager.default.fileExists(atPath: target) { continue }
            var failures: [String] = []
            var saved = false
            for mirror in mirrors {
                guard let url = URL(string: mirror + name) else { continue }
                switch fetch(url) {
                case .failure(let error): failures.append("\(error)")
                case .success(let bytes):
                    do {
                        try verify(bytes, sha256: digest, file: url.absoluteString)
                        try writeAtomically(bytes, to: target)
                        saved = true
                    } catch {
                        failures.append("\(error)")
                    }
                }
                if saved { break }
            }
            guard saved else {
                throw DataError.unreadable(file: name, reason: "download failed: " + failures.joined(separator: "; "))
            }
        }
    }
}
