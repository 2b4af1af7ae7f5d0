import XCTest
@testable import DeepSwift
import TestSupport

/// What `Layer.inputProblem` accepts and refuses before a call, in Keras's terms,
/// and the calls it must keep accepting.
final class InputProblemTests: XCTestCase {
    func testProblemsNameTheLayerAndTheShapes() {
        XCTAssertEqual(MaxPooling2D(poolSize: 3, name: "p").inputProblem(shapes: [[1, 2, 2, 1]], dtypes: [.float32]),
                       "MaxPooling2D 'p': the window [3, 3] does not fit the input's spatial size [2, 2] with padding valid")
        XCTAssertNil(MaxPooling2D(poolSize: 3, padding: .same, name: "p").inputProblem(shapes: [[1, 2, 2, 1]], dtypes: [.float32]))
        XCTAssertEqual(Conv2D(2, kernelSize: 3, groups: 2, name: "g").inputProblem(shapes: [[1, 5, 5, 3]], dtypes: [.float32]),
                       "Conv2D 'g': the input's 3 channels are not a multiple of groups (2); input shape (1, 5, 5, 3)")
        XCTAssertEqual(Conv2D(2, kernelSize: 3, name: "r").inputProblem(shapes: [[5, 5, 3]], dtypes: [.float32]),
                       "Conv2D 'r': expected an input of rank 4 (batch, height, width, channels), got shape (5, 5, 3)")
        XCTAssertEqual(Reshape([4, -1], name: "s").inputProblem(shapes: [[2, 3, 3]], dtypes: [.float32]),
                       "Reshape 's': cannot reshape examples of shape [3, 3] (9 elements) to [4, -1]")
        XCTAssertEqual(Concatenate(axis: 1, name: "c").inputProblem(shapes: [[2, 3, 4], [2, 3, 5]], dtypes: [.float32, .float32]),
                       "Concatenate 'c': the inputs must match on every axis but 1, got [(2, 3, 4), (2, 3, 5)]")
        XCTAssertEqual(Add(name: "a").inputProblem(shapes: [[2, 3], [2, 4]], dtypes: [.float32, .float32]),
                       "Add 'a': the inputs' shapes do not broadcast: [(2, 3), (2, 4)]")
        XCTAssertEqual(Embedding(inputDim: 3, outputDim: 2, name: "e").inputProblem(shapes: [[2]], dtypes: [.uint8]),
                       "Embedding 'e': ids must be int32 or int64, got uint8")
        let dense = Dense(2, name: "d")
        _ = dense(Tensor.ones([1, 3]))
        XCTAssertEqual(dense.inputProblem(shapes: [[1, 3]], dtypes: [.float64]),
                       "Dense 'd': expects float32 inputs (the dtype of its weights), got [\"float64\"]")
    }

    func testCallsThatWorkedKeepWorking() {
        // A hypernetwork's float64 kernel assigned to a float32-built Dense.
        let dense = Dense(2)
        _ = dense(Tensor.ones([1, 3]))
        dense.kernel = Tensor.ones([3, 2], dtype: .float64)
        dense.bias = Tensor.zeros([2], dtype: .float64)
        XCTAssertEqual(dense(Tensor.ones([1, 3], dtype: .float64)).scalars(as: Double.self), [3, 3])
        // Layers without weights take either float type.
        let normalized = LayerNormalization(center: false, scale: false)(Tensor([[1, 3]] as [[Double]], dtype: .float64))
        XCTAssertEqual(normalized.dtype, .float64)
        // Dropout passes integer inputs through at inference.
        XCTAssertEqual(Dropout(0.5)(Tensor([1, 2] as [Int32])).scalars(as: Int32.self), [1, 2])
        // BatchNormalization without scale or shift casts its moving statistics at inference.
        let bare = BatchNormalization(center: false, scale: false)
        _ = bare(Tensor.ones([2, 3]))
        XCTAssertEqual(bare(Tensor.ones([2, 3], dtype: .float64)).dtype, .float64)
        // Normalization casts inputs to its statistics' dtype.
        let norm = Normalization(mean: Tensor([1.0] as [Double], dtype: .float64), variance: Tensor([4.0] as [Double], dtype: .float64))
        XCTAssertEqual(norm(Tensor([[3]] as [[Float]])).scalars(as: Double.self), [1])
    }
}
