import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// SimpleRNN, LSTM and GRU against Keras 3 (values computed with the same weights
/// and inputs and written here), their cells in a custom loop, and their gradients.
final class RecurrentLayerTests: XCTestCase {
    // Keras: x = sin(0.7·arange(24)) as (2, 4, 3); weight k = 0.5·cos(0.37·arange + k).
    let x = Tensor(shape: [2, 4, 3], scalars: (0..<24).map { Float(sin(Double($0) * 0.7)) })

    func weight(_ shape: TensorShape, _ k: Int) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.elementCount).map { Float(cos(Double($0) * 0.37 + Double(k)) * 0.5) })
    }

    /// Builds `layer` on `x`, then gives its weights Keras's values.
    func withKerasWeights(_ layer: RNN) -> RNN {
        _ = layer([x])
        for (k, w) in layer.cell.createdWeights.enumerated() { w.assign(weight(w.shape, k)) }
        return layer
    }

    func testSimpleRNNAsKeras() {
        let y = withKerasWeights(SimpleRNN(2, returnSequences: true))([x])[0]
        XCTAssertEqual(y.shape, [2, 4, 2])
        assertClose(y, Tensor(shape: [2, 4, 2], scalars: [
            0.07433262467384338, -0.3372277617454529, 0.3625272512435913, 0.25504249334335327, -0.7437289357185364, -0.7284723520278931,
            -0.05182139202952385, -0.22394834458827972, 0.3098987638950348, 0.16003909707069397, -0.7474918365478516, -0.7217026948928833,
            -0.040271300822496414, -0.21616055071353912, 0.30653923749923706, 0.20445168018341064] as [Float]), tolerance: 1e-5)
    }

    func testLSTMAsKeras() {
        let lstm = withKerasWeights(LSTM(2, returnSequences: true, returnState: true))
        XCTAssertEqual(lstm.cell.createdWeights.map(\.shape), [[3, 8], [2, 8], [8]])
        let out = lstm([x])
        XCTAssertEqual(out.count, 3)
        assertClose(out[0], Tensor(shape: [2, 4, 2], scalars: [
            -0.06998998671770096, -0.06314817816019058, -0.11877134442329407, -0.10835541039705276, -0.13164500892162323,
            -0.10442604124546051, -0.11999215930700302, -0.09891550987958908, -0.0956931784749031, -0.08726702630519867,
            -0.12250160425901413, -0.09550908207893372, -0.11638421565294266, -0.09591653198003769, -0.13419553637504578,
            -0.11889873445034027] as [Float]), tolerance: 1e-5)
        assertClose(out[1], Tensor(shape: [2, 2], scalars: [-0.11999215930700302, -0.09891550987958908, -0.13419553637504578, -0.11889873445034027] as [Float]),
                    tolerance: 1e-5)
        assertClose(out[2], Tensor(shape: [2, 2], scalars: [-0.27619072794914246, -0.2132313847541809, -0.33884304761886597, -0.268346905708313] as [Float]),
                    tolerance: 1e-5)
        let backwards = withKerasWeights(LSTM(2, goBackwards: true))([x])[0]
        assertClose(backwards, Tensor(shape: [2, 2], scalars: [-0.12774576246738434, -0.10929638147354126, -0.1343768686056137, -0.11560576409101486] as [Float]),
                    tolerance: 1e-5)
        // Keras's defaults: the forget gate's bias starts at 1.
        let fresh = LSTM(2)
        _ = fresh([x])
        XCTAssertEqual(fresh.cell.createdWeights[2].value.scalars(as: Float.self), [0, 0, 1, 1, 0, 0, 0, 0])
    }

    func testGRUAsKeras() {
        let gru = withKerasWeights(GRU(2, returnSequences: true))
        XCTAssertEqual(gru.cell.createdWeights.map(\.shape), [[3, 6], [2, 6], [2, 6]])
        assertClose(gru([x])[0], Tensor(shape: [2, 4, 2], scalars: [
            -0.08166585862636566, 0.09434456378221512, -0.30376145243644714, -0.23427727818489075, -0.20799222588539124,
            -0.08988796919584274, -0.12355165928602219, 0.08984337747097015, -0.2613719403743744, -0.2800968289375305,
            -0.19332873821258545, -0.11440922319889069, -0.12266183644533157, 0.07375987619161606, -0.3198414444923401,
            -0.23999637365341187] as [Float]), tolerance: 1e-5)
        let before = withKerasWeights(GRU(2, resetAfter: false, returnState: true))
        XCTAssertEqual(before.cell.createdWeights.map(\.shape), [[3, 6], [2, 6], [6]])
        let out = before([x])
        let expected = Tensor(shape: [2, 2], scalars: [-0.27254775166511536, -0.13325266540050507, -0.41865918040275574, -0.3920530080795288] as [Float])
        assertClose(out[0], expected, tolerance: 1e-5)
        assertClose(out[1], expected, tolerance: 1e-5)
    }

    /// Builds `layer` on `x`, then gives its weights (forward layer's, then backward's) Keras's values.
    func withKerasWeights(_ layer: Bidirectional) -> Bidirectional {
        _ = layer([x])
        let weights = layer.forwardLayer.cell.createdWeights + layer.backwardLayer.cell.createdWeights
        for (k, w) in weights.enumerated() { w.assign(weight(w.shape, k)) }
        return layer
    }

    func testBidirectionalAndTimeDistributedAsKeras() {
        let both = withKerasWeights(Bidirectional(LSTM(2, returnSequences: true)))([x])[0]
        XCTAssertEqual(both.shape, [2, 4, 4])
        assertClose(both, Tensor(shape: [2, 4, 4], scalars: [
            -0.06998998671770096, -0.06314817816019058, 0.2509815990924835, 0.2418220043182373, -0.11877134442329407, -0.10835541039705276,
            0.29148781299591064, 0.2688027024269104, -0.13164500892162323, -0.10442604124546051, 0.21804168820381165, 0.16943250596523285,
            -0.11999215930700302, -0.09891550987958908, 0.09328142553567886, 0.09055595099925995, -0.0956931784749031, -0.08726702630519867,
            0.3213571608066559, 0.2992238700389862, -0.12250160425901413, -0.09550908207893372, 0.26314207911491394, 0.21388766169548035,
            -0.11638421565294266, -0.09591653198003769, 0.17441724240779877, 0.1733696460723877, -0.13419553637504578, -0.11889873445034027,
            0.153092160820961, 0.14950032532215118] as [Float]), tolerance: 1e-5)
        let summed = withKerasWeights(Bidirectional(GRU(2), mergeMode: .sum))([x])[0]
        assertClose(summed, Tensor(shape: [2, 2], scalars: [0.13049575686454773, 0.23081141710281372, 0.033308446407318115, 0.05429205298423767] as [Float]),
                    tolerance: 1e-5)
        let withStates = Bidirectional(LSTM(2, returnState: true))([x])
        XCTAssertEqual(withStates.map(\.shape), [[2, 4], [2, 2], [2, 2], [2, 2], [2, 2]])
        let dense = Dense(3)
        let distributed = TimeDistributed(dense)
        _ = distributed(x)
        dense.kernelVariable!.assign(weight([3, 3], 0))
        dense.biasVariable!.assign(weight([3], 1))
        assertClose(distributed(x), Tensor(shape: [2, 4, 3], scalars: [
            0.11550261080265045, -0.29071834683418274, -0.6575918793678284, 0.8822673559188843, 0.666688084602356, 0.3608757555484772,
            -0.19324931502342224, -0.08229033648967743, 0.03980625420808792, 0.12592674791812897, -0.2834590971469879, -0.6544800400733948,
            0.8791738748550415, 0.6686378717422485, 0.36760491132736206, -0.20054996013641357, -0.09151822328567505, 0.02989998459815979,
            0.13639165461063385, -0.2760915160179138, -0.651206910610199, 0.8759081363677979, 0.6704268455505371, 0.3742063343524933] as [Float]),
                    tolerance: 1e-5)
    }

    func testACellDrivesACustomLoopAndInitialStatesAreUsed() {
        let lstm = withKerasWeights(LSTM(2, returnSequences: true, returnState: true))
        let cell = lstm.cell
        var (h, c) = (Tensor.zeros([2, 2]), Tensor.zeros([2, 2]))
        for t in 0..<4 {
            let out = cell([x[.all, t], h, c])
            (h, c) = (out[1], out[2])
        }
        assertClose(h, lstm([x])[1], tolerance: 1e-6)
        // Running the second half from the first half's states gives the whole run's end.
        let half = lstm([x[.all, 0..<2]])
        assertClose(lstm([x[.all, 2..<4], half[1], half[2]])[1], h, tolerance: 1e-6)
    }

    func testGradientsToSecondOrder() {
        setRandomSeed(3)
        for make in [{ LSTM(2, returnSequences: true) as RNN }, { GRU(2) as RNN }, { GRU(2, resetAfter: false) as RNN }, { SimpleRNN(2) as RNN }] {
            let layer = make()
            layer.dtype = .float64
            let input = Random.normal([2, 3, 2], dtype: .float64)
            _ = layer([input])
            checkGradients([input] + layer.cell.createdWeights.map(\.value)) { xs in
                for (w, v) in zip(layer.cell.createdWeights, xs.dropFirst()) { w.assign(v) }
                return layer([xs[0]])[0]
            }
        }
    }

    func testSavedWithTheModel() throws {
        setRandomSeed(5)
        let model = Sequential([LSTM(3, returnSequences: true), GRU(2), Dense(1)], inputShape: [4, 3])
        XCTAssertEqual(model.countParams(), 4 * (3 * 3 + 3 * 3 + 3) + 3 * (3 * 2 + 2 * 2 + 2 * 2) + 3)
        let wrapped = Sequential([Bidirectional(LSTM(3, returnSequences: true)), TimeDistributed(Dense(2)), Bidirectional(GRU(2), mergeMode: .mul)],
                                 inputShape: [4, 3])
        let folder = NSTemporaryDirectory() + "deepswift-rnn-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try model.save(to: folder)
        XCTAssertEqual(try loadModel(from: folder).predict(x), try model.predict(x))
        try wrapped.save(to: folder)
        let loaded = try loadModel(from: folder)
        XCTAssertEqual(loaded.weights.map(\.name), wrapped.weights.map(\.name))
        XCTAssertEqual(try loaded.predict(x), try wrapped.predict(x))
    }

    func testOrthogonalInitializerAndInputProblems() {
        let q = Initializer.orthogonal(seed: 4).make([5, 3], .float64)
        assertClose(matmul(q, q, transposeA: true), Tensor.eye(3, dtype: .float64), tolerance: 1e-12)
        let wide = Initializer.orthogonal(gain: 2, seed: 4).make([3, 5], .float64)
        assertClose(matmul(wide, wide, transposeB: true), Tensor.eye(3, dtype: .float64) * 4, tolerance: 1e-12)
        let lstm = LSTM(4, name: "l")
        XCTAssertEqual(lstm.inputProblem(shapes: [[2, 3]], dtypes: [.float32]), "LSTM 'l': expects inputs of shape (batch, steps ≥ 1, features), got (2, 3)")
        XCTAssertEqual(lstm.inputProblem(shapes: [[2, 3, 5], [2, 4]], dtypes: [.float32, .float32]),
                       "LSTM 'l': takes the input and, optionally, 2 initial state(s); got 2 tensors")
        XCTAssertEqual(lstm.inputProblem(shapes: [[2, 3, 5], [2, 4], [3, 4]], dtypes: [.float32, .float32, .float32]),
                       "LSTM 'l': expects initial states of shape (2, 4), got (3, 4)")
    }

    // MARK: dropout and recurrent dropout

    /// Inference ignores both rates; training draws one input mask per sequence,
    /// the same at every step.
    func testInputDropoutKeepsOneMaskPerSequence() {
        setRandomSeed(2)
        let rnn = SimpleRNN(3, activation: .linear, useBias: false, returnSequences: true, dropout: 0.5)
        let x = Random.uniform([4, 5, 3], min: 1, max: 2)
        _ = rnn(x)
        rnn.cell.createdWeights[0].assign(Tensor.eye(3))
        rnn.cell.createdWeights[1].assign(Tensor.zeros([3, 3]))
        assertClose(rnn(x), x, tolerance: 1e-6)                       // inference: no dropout
        let y = rnn(x, training: true), ratio = (y / x).scalars(as: Float.self)
        XCTAssertTrue(ratio.allSatisfy { abs($0) < 1e-6 || abs($0 - 2) < 1e-5 }, "kept inputs are scaled by 1/(1-0.5)")
        for b in 0..<4 {
            let first = ratio[(b * 15)..<(b * 15 + 3)].map { $0 > 1 }
            for t in 1..<5 { XCTAssertEqual(ratio[(b * 15 + t * 3)..<(b * 15 + t * 3 + 3)].map { $0 > 1 }, first, "batch \(b), step \(t)") }
        }
        XCTAssertTrue(ratio.contains { $0 > 1 } && ratio.contains { $0 < 1 })
    }

    /// The recurrent mask is also drawn once: h₂ = h₁·m when the kernel is the identity.
    func testRecurrentDropoutKeepsOneMaskPerSequence() {
        setRandomSeed(3)
        let rnn = SimpleRNN(6, activation: .linear, useBias: false, returnSequences: true, recurrentDropout: 0.5)
        let x = Tensor(shape: [2, 3, 6], scalars: (0..<36).map { Float($0 % 18 < 6 ? 1 : 0) })   // x₀ = 1, then 0
        _ = rnn(x)
        rnn.cell.createdWeights[0].assign(Tensor.eye(6))
        rnn.cell.createdWeights[1].assign(Tensor.eye(6))
        XCTAssertEqual(rnn(x)[.all, 2], Tensor.ones([2, 6]))       // inference: h = x₀ at every step
        let y = rnn(x, training: true)
        let (h1, h2) = (y[.all, 1].scalars(as: Float.self), y[.all, 2].scalars(as: Float.self))
        XCTAssertTrue(h1.allSatisfy { $0 == 0 || $0 == 2 })
        XCTAssertEqual(h2, h1.map { $0 * $0 })                       // (x₀·m)·m with m ∈ {0, 2}
    }

    /// LSTM and GRU with both rates: inference equals the same layer without them,
    /// training differs, and gradients are right to second order under fixed masks.
    func testLSTMAndGRUWithDropoutTrainAndDifferentiate() {
        for (name, make) in [("LSTM", { (d: Double, r: Double) -> RNN in LSTM(3, returnSequences: true, dropout: d, recurrentDropout: r) }),
                             ("GRU", { GRU(3, dropout: $0, recurrentDropout: $1) }),
                             ("GRU before", { GRU(3, resetAfter: false, dropout: $0, recurrentDropout: $1) })] {
            setRandomSeed(4)
            let plain = make(0, 0), dropped = make(0.3, 0.4)
            let x = Random.normal([2, 4, 5], dtype: .float64)
            plain.dtype = .float64
            dropped.dtype = .float64
            _ = (plain(x), dropped(x))
            for (a, b) in zip(dropped.cell.createdWeights, plain.cell.createdWeights) { a.assign(b.value) }
            XCTAssertEqual(dropped(x), plain(x), name)
            XCTAssertNotEqual(dropped(x, training: true), plain(x, training: true), name)
            checkGradients([x] + dropped.cell.createdWeights.map(\.value)) { xs in
                for (w, v) in zip(dropped.cell.createdWeights, xs.dropFirst()) { w.assign(v) }
                setRandomSeed(9)   // the same masks at every evaluation
                return dropped(xs[0], training: true)
            }
        }
    }
}
