import XCTest
import Foundation

/// A test case with a fresh, empty folder of its own (`folder`, ending in "/")
/// under the system's temporary directory, made before each test and removed after.
open class TemporaryFolderTestCase: XCTestCase {
    /// This test's folder, ending in "/".
    public private(set) var folder = ""

    open override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "deepswift-\(type(of: self))-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    open override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }
}
