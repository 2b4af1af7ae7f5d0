import XCTest
import TensorCore

/// Asserts that two float tensors have one shape and agree elementwise within `tolerance`.
public func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Double = 1e-6,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "shapes differ", file: file, line: line)
    guard a.shape == b.shape else { return }
    let x = a.scalars(as: Double.self), y = b.scalars(as: Double.self)
    for i in x.indices where !(Swift.abs(x[i] - y[i]) <= tolerance * Swift.max(1, Swift.abs(y[i]))) {
        XCTFail("element \(i): \(x[i]) vs \(y[i])", file: file, line: line)
        return
    }
}
