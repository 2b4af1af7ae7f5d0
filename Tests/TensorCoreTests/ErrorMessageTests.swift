import XCTest
@testable import TensorCore
import TestSupport

final class ErrorMessageTests: XCTestCase {
    func testBroadcastMismatchNamesOpAndShapes() {
        assertTraps("add", "(2, 3)", "(4,)", "cannot be broadcast") {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
    }

    func testDTypeMismatchNamesBothDTypes() {
        assertTraps("multiply", "float32", "int32") { _ = Tensor([1.0]) * Tensor([1]) }
    }

    func testScalarCountMismatchSaysBothNumbers() {
        assertTraps("(2, 2)", "4 elements", "3 scalars") {
            _ = Tensor(shape: [2, 2], scalars: [1, 2, 3] as [Float])
        }
    }

    func testMatmulInnerDimensions() {
        assertTraps("matmul", "(2, 3)", "(4, 5)") { _ = matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])) }
    }

    func testScopeNameAppears() {
        assertTraps("subtract", "in layer 'model/dense_1'") {
            withNameScope("model") { withNameScope("dense_1") { _ = Tensor.zeros([2]) - Tensor.zeros([3]) } }
        }
    }

    func testIntegerDivisionByZero() {
        assertTraps("divide", "division by zero") { _ = Tensor([1]) / Tensor([0]) }
    }

    func testFloatOnlyOps() {
        assertTraps("exp", "int32") { _ = exp(Tensor([1])) }
    }

    func testBadReshape() {
        assertTraps("reshaped", "(2, 3)", "(4, -1)") { _ = Tensor.zeros([2, 3]).reshaped(to: [4, -1]) }
    }

    func testIndexOutOfRange() {
        assertTraps("index 5", "size 2") { _ = Tensor.zeros([2, 2])[5] }
    }
}
