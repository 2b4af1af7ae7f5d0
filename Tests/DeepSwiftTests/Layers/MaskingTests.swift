import XCTest
@testable import DeepSwift
import TestSupport

/// Masks from `Embedding(maskZero:)` and `Masking` through recurrent layers,
/// attention, pooling and losses, against Keras 3's values (JAX backend) for the
/// same weights, `sin(arange(n)·a + b)·t` sequences computed outside the project.
final class MaskingTests: XCTestCase {
    func seq(_ shape: TensorShape, _ a: Double, _ b: Double = 0, _ t: Double = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.elementCount).map { Float(sin(Double($0) * a + b) * t) })
    }

    let ids = Tensor(shape: [2, 5], scalars: [Int32(3), 1, 4, 0, 0, 2, 0, 5, 6, 0])
    lazy var kept = ids .!= Tensor(0, dtype: .int32)

    func embedding() -> Embedding {
        let e = Embedding(inputDim: 7, outputDim: 3, maskZero: true)
        e.embeddings.assign(seq([7, 3], 0.7, 0.1))
        return e
    }

    func testEmbeddingAndMaskingMakeMasksThatPassThroughDenseAndDropout() {
        let x = embedding()(ids)
        XCTAssertEqual(propagatedMask(of: x), kept)
        XCTAssertEqual(propagatedMask(of: Dropout(0.5)(Dense(4)(x))), kept)
        XCTAssertNil(propagatedMask(of: Flatten()(x)), "a layer that does not support masking drops it")
        XCTAssertNil(propagatedMask(of: Embedding(inputDim: 7, outputDim: 3)(ids)))
        let padded = Tensor(shape: [1, 3, 2], scalars: [Float(1), 2, 0, 0, 3, 0])
        let masked = Masking(maskValue: 0)(padded)
        XCTAssertEqual(propagatedMask(of: masked), Tensor(shape: [1, 3], scalars: [true, false, true]))
        XCTAssertEqual(Masking(maskValue: 1)(Tensor(shape: [1, 2, 1], scalars: [Float(1), 2])), Tensor(shape: [1, 2, 1], scalars: [Float(0), 2]))
    }

    func testMergesCombineTheirInputsMasks() {
        let (a, b) = (embedding()(ids), Embedding(inputDim: 7, outputDim: 3, maskZero: true)(Tensor(shape: [2, 5], scalars: [Int32(1), 1, 1, 1, 0, 1, 1, 1, 1, 1])))
        let both = logicalAnd(kept, propagatedMask(of: b)!)
        XCTAssertEqual(propagatedMask(of: Add()(a, b)), both)
        XCTAssertEqual(propagatedMask(of: Concatenate()(a, b)), both)
        XCTAssertEqual(propagatedMask(of: Add()(a, Dense(3)(Flatten()(a)).reshaped(to: [2, 1, 3]).broadcasted(to: [2, 5, 3]))), kept)
        XCTAssertNil(propagatedMask(of: Concatenate(axis: 1)(a, b)))
        XCTAssertNil(propagatedMask(of: Dot(axes: [2, 2])(a, b)))
    }

    func testRecurrentLayersCarryTheirStateOverMaskedSteps() {
        let x = embedding()(ids)
        let sequences = LSTM(2, returnSequences: true), last = LSTM(2)
        _ = (sequences(x), last(x))
        for (w, v) in zip(sequences.cell.createdWeights, [seq([3, 8], 0.3, 0.2, 0.5), seq([2, 8], 0.5, 0.4, 0.5), seq([8], 0.9, 0.1, 0.1)]) { w.assign(v) }
        for (w, v) in zip(last.cell.createdWeights, [seq([3, 8], 0.31, 0.25, 0.5), seq([2, 8], 0.45, 0.4, 0.5), seq([8], 0.8, 0.1, 0.1)]) { w.assign(v) }
        // Keras 3 repeats the last output at a masked step; as the issue asks (and
        // tf.keras did), those outputs are zeros here. The steps after a masked
        // one show that the state was carried over it.
        let zeroed = zip(Self.lstmSeq, kept.scalars(as: Bool.self).flatMap { [$0, $0] }).map { $1 ? $0 : 0 }
        let y = sequences(x)
        assertClose(y, Tensor(shape: [2, 5, 2], scalars: zeroed), tolerance: 2e-5)
        XCTAssertEqual(propagatedMask(of: y), kept)
        assertClose(last(x), Tensor(shape: [2, 2], scalars: Self.lstmLast), tolerance: 2e-5)
        XCTAssertNil(propagatedMask(of: last(x)))
        // Masking before a GRU.
        let floats = Tensor(shape: [2, 3, 2], scalars: [Float(1), 2, 0, 0, 3, 1, 0, 0, 2, 2, 0, 0])
        let gru = GRU(2, returnSequences: true)
        _ = gru(floats)
        for (w, v) in zip(gru.cell.createdWeights, [seq([2, 6], 0.3, 0.1, 0.5), seq([2, 6], 0.4, 0.2, 0.5), seq([2, 6], 0.7, 0.3, 0.1)]) { w.assign(v) }
        let stepKept = [true, false, true, false, true, false]
        let expected = zip(Self.gruMasked, stepKept.flatMap { [$0, $0] }).map { $1 ? $0 : 0 }
        assertClose(gru(Masking()(floats)), Tensor(shape: [2, 3, 2], scalars: expected), tolerance: 2e-5)
    }

    func testPoolingAttentionAndLossesHonourTheMask() throws {
        let e = embedding()
        let x = e(ids)
        assertClose(GlobalAveragePooling1D()(x), Tensor(shape: [2, 3], scalars: Self.pooled), tolerance: 1e-6)
        let mha = MultiHeadAttention(numHeads: 1, keyDim: 2)
        _ = mha(x, x)
        let weights = [seq([3, 1, 2], 0.2, 0.1, 0.5), seq([1, 2], 0.3), seq([3, 1, 2], 0.25, 0.2, 0.5), seq([1, 2], 0.35),
                       seq([3, 1, 2], 0.15, 0.3, 0.5), seq([1, 2], 0.4), seq([1, 2, 3], 0.45, 0.5, 0.5), seq([3], 0.5)]
        for (w, v) in zip(mha.weights, weights) { w.assign(v) }
        // A masked query attends to nothing: its output is the output bias alone
        // (Keras's explicit-scores path; its fused path averages every value instead).
        assertClose(mha(x, x), Tensor(shape: [2, 5, 3], scalars: Self.mha), tolerance: 2e-5)
        XCTAssertEqual(propagatedMask(of: mha(x, x)), kept)
        // The loss of a masked sequence output is the mean over unmasked steps.
        let tokens = Input(shape: [5], dtype: .int32)
        let dense = Dense(4)
        let model = Model(inputs: tokens, outputs: dense(e(tokens)))
        dense.kernelVariable!.assign(seq([3, 4], 0.6, 0.2))
        dense.biasVariable!.assign(seq([4], 0.3))
        model.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let y = Tensor(shape: [2, 5], scalars: [Int32(1), 2, 3, 0, 0, 0, 1, 2, 3, 1])
        XCTAssertEqual(try model.evaluate(x: ids, y: y)["loss"]!, Double(Self.maskedLoss[0]), accuracy: 1e-5)
        // Training a masked model: padding changes nothing.
        let longer = Tensor(shape: [2, 7], scalars: [Int32(3), 1, 4, 0, 0, 0, 0, 2, 0, 5, 6, 0, 0, 0])
        let lstm = LSTM(3)
        let classifier = Sequential([Embedding(inputDim: 7, outputDim: 3, maskZero: true), lstm, Dense(2)], inputShape: [7], inputDType: .int32)
        let short = Tensor(shape: [2, 5], scalars: longer.scalars(as: Int32.self).enumerated().filter { $0.offset % 7 < 5 }.map(\.element))
        let reference = classifier(short)
        XCTAssertEqual(classifier(longer), reference)
    }

    static let lstmSeq: [Float] = [-0.05162914, -0.05214466, 0.04496854, 0.01102288, 0.1178191, 0.05791614, 0.1178191, 0.05791614, 0.1178191, 0.05791614, -0.04114457, -0.05211115, -0.04114457, -0.05211115, -0.06530373, -0.08114198, -0.08559801, -0.095217, -0.08559801, -0.095217]
    static let lstmLast: [Float] = [0.1115447, 0.03964379, -0.05737128, -0.0698927]
    static let pooled: [Float] = [0.5745109, 0.3970361, 0.032829, -0.5685698, -0.3908559, -0.02931637]
    static let mha: [Float] = [0.4637155, 0.9130933, 1.158745, 0.3818292, 0.8255885, 1.083045, 0.3804692, 0.8241352, 1.081787, 0, 0.4794255, 0.841471, 0, 0.4794255, 0.841471, -0.1635692, 0.2604139, 0.6106233, 0, 0.4794255, 0.841471, -0.1615873, 0.2624898, 0.6123799, 0.419296, 0.8709298, 1.127233, 0, 0.4794255, 0.841471]
    static let gruMasked: [Float] = [0.1500103, 0.06653929, 0.1500103, 0.06653929, 0.4243234, 0.2826219, 0, 0, 0.2163959, 0.1491355, 0.2163959, 0.1491355]
    static let maskedLoss: [Float] = [1.379216]
}
