import XCTest
import Autodiff
import TestSupport

final class VariableTests: XCTestCase {
    func testPrintsLikeTensorFlow() {
        let a = Variable(Tensor([[0.6405563, 0.03973103], [-0.6126285, -0.71384406]]))
        XCTAssertEqual(a.description, """
            <DeepSwift.Variable 'Variable:0' shape=(2, 2) dtype=float32, numpy=
            array([[ 0.6405563 ,  0.03973103],
                   [-0.6126285 , -0.71384406]], dtype=float32)>
            """)
        let s = Variable(Tensor(Float(3)), name: "scale")
        XCTAssertEqual(s.description, "<DeepSwift.Variable 'scale:0' shape=() dtype=float32, numpy=array(3.0, dtype=float32)>")
    }

    func testPropertiesAndArithmetic() {
        let w = Variable(Tensor([[1.0, 2], [3, 4]]), name: "w", trainable: false)
        XCTAssertEqual(w.shape, [2, 2])
        XCTAssertEqual(w.dtype, .float32)
        XCTAssertFalse(w.trainable)
        let x = Tensor([[1.0, 1]])
        XCTAssertEqual((matmul(x, w) + w[0]).array(as: [[Float]].self), [[5, 8]])
        XCTAssertEqual((w * 2 - 1).scalars(as: Float.self), [1, 3, 5, 7])
        XCTAssertEqual((w + w).scalars(as: Float.self), [2, 4, 6, 8])
        XCTAssertEqual(exp(w * 0).scalars(as: Float.self), [1, 1, 1, 1])
    }

    func testAssignChecksShapeAndDType() {
        assertTraps("assign", "'w'", "(2,)", "(3,)") {
            Variable(Tensor([1.0, 2]), name: "w").assign(Tensor([1.0, 2, 3]))
        }
        assertTraps("assignAdd", "float32", "int32") {
            Variable(Tensor([1.0, 2]), name: "w").assignAdd(Tensor([1, 2]))
        }
    }

    func testAssignDoesNotDisturbCopiesOfTheOldValue() {
        let v = Variable(Tensor([1.0, 2]))
        let before = v.value
        v.assignAdd(Tensor([1.0, 1]))
        XCTAssertEqual(before.scalars(as: Float.self), [1, 2])
        XCTAssertEqual(v.value.scalars(as: Float.self), [2, 3])
    }
}
