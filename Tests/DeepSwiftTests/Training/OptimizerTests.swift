import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// First steps of each optimizer against the formulas worked by hand (Keras's).
final class OptimizerTests: XCTestCase {
    let g = Tensor([0.5, -1.0], dtype: .float64)

    func run(_ optimizer: Optimizer, steps: Int = 2) -> [Double] {
        let w = Variable(Tensor([1.0, 2.0], dtype: .float64))
        for _ in 0..<steps { optimizer.apply([g], to: [w]) }
        return w.value.scalars(as: Double.self)
    }

    func assertEqual(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: tolerance, file: file, line: line) }
    }

    func testSGD() {
        assertEqual(run(SGD(learningRate: 0.1)), [1 - 0.1, 2 + 0.2])
        // Momentum 0.9: m1 = -lr·g, m2 = 0.9·m1 - lr·g; w = w0 + m1 + m2.
        let m1 = [-0.05, 0.1], m2 = [0.9 * -0.05 - 0.05, 0.9 * 0.1 + 0.1]
        assertEqual(run(SGD(learningRate: 0.1, momentum: 0.9)), [1 + m1[0] + m2[0], 2 + m1[1] + m2[1]])
        // Nesterov: w += momentum·m - lr·g.
        let n1 = [0.9 * m1[0] - 0.05, 0.9 * m1[1] + 0.1], n2 = [0.9 * m2[0] - 0.05, 0.9 * m2[1] + 0.1]
        assertEqual(run(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)), [1 + n1[0] + n2[0], 2 + n1[1] + n2[1]])
        XCTAssertEqual(SGD().currentLearningRate, 0.01)
    }

    func adamReference(steps: Int, lr: Double, amsgrad: Bool = false, decay: Double = 0) -> [Double] {
        var w = [1.0, 2.0], m = [0.0, 0.0], v = [0.0, 0.0], vhat = [0.0, 0.0]
        let grads = g.scalars(as: Double.self)
        for t in 1...steps {
            let alpha = lr * (1 - pow(0.999, Double(t))).squareRoot() / (1 - pow(0.9, Double(t)))
            for i in 0..<2 {
                w[i] -= w[i] * decay * lr
                m[i] += (grads[i] - m[i]) * 0.1
                v[i] += (grads[i] * grads[i] - v[i]) * 0.001
                vhat[i] = max(vhat[i], v[i])
                w[i] -= alpha * m[i] / ((amsgrad ? vhat[i] : v[i]).squareRoot() + 1e-7)
            }
        }
        return w
    }

    func testAdamFamily() {
        assertEqual(run(Adam(learningRate: 0.01), steps: 3), adamReference(steps: 3, lr: 0.01))
        assertEqual(run(Adam(learningRate: 0.01, amsgrad: true), steps: 3), adamReference(steps: 3, lr: 0.01, amsgrad: true))
        assertEqual(run(AdamW(learningRate: 0.01), steps: 3), adamReference(steps: 3, lr: 0.01, decay: 0.004))
        // After the first step Adam moves each weight by ~lr against its gradient's sign.
        assertEqual(run(Adam(learningRate: 0.001), steps: 1), [1 - 0.001, 2 + 0.001], 1e-8)
    }

    func testRMSpropAndAdagrad() {
        var v = [0.0, 0.0], w = [1.0, 2.0]
        let grads = g.scalars(as: Double.self)
        for _ in 0..<2 { for i in 0..<2 { v[i] = 0.9 * v[i] + 0.1 * grads[i] * grads[i]; w[i] -= 0.01 * grads[i] / (v[i] + 1e-7).squareRoot() } }
        assertEqual(run(RMSprop(learningRate: 0.01)), w)
        // Centered with momentum.
        var v2 = [0.0, 0.0], a = [0.0, 0.0], mom = [0.0, 0.0], w2 = [1.0, 2.0]
        for _ in 0..<2 {
            for i in 0..<2 {
                v2[i] = 0.9 * v2[i] + 0.1 * grads[i] * grads[i]
                a[i] = 0.9 * a[i] + 0.1 * grads[i]
                mom[i] = 0.5 * mom[i] + 0.01 * grads[i] / (v2[i] - a[i] * a[i] + 1e-7).squareRoot()
                w2[i] -= mom[i]
            }
        }
        assertEqual(run(RMSprop(learningRate: 0.01, momentum: 0.5, centered: true)), w2, 1e-10)
        var acc = [0.1, 0.1], w3 = [1.0, 2.0]
        for _ in 0..<2 { for i in 0..<2 { acc[i] += grads[i] * grads[i]; w3[i] -= 0.01 * grads[i] / (acc[i] + 1e-7).squareRoot() } }
        assertEqual(run(Adagrad(learningRate: 0.01)), w3)
    }

    func testFloat32MatchesFloat64() {
        let w32 = Variable(Tensor([1.0, 2.0])), w64 = Variable(Tensor([1.0, 2.0], dtype: .float64))
        let a = Adam(learningRate: 0.01), b = Adam(learningRate: 0.01)
        for _ in 0..<5 {
            a.apply([g.cast(to: .float32)], to: [w32])
            b.apply([g], to: [w64])
        }
        assertClose(w32.value, w64.value, tolerance: 1e-6)
    }

    func testClippingNilGradientsAndIterations() {
        let w = Variable(Tensor([0.0, 0.0], dtype: .float64)), unused = Variable(Tensor([5.0], dtype: .float64))
        let sgd = SGD(learningRate: 1, clipNorm: 1)
        sgd.apply([Tensor([3.0, 4.0], dtype: .float64), nil], to: [w, unused])
        assertEqual(w.value.scalars(as: Double.self), [-0.6, -0.8])
        XCTAssertEqual(unused.value.scalars(as: Double.self), [5])
        XCTAssertEqual(sgd.iterations, 1)
        let byValue = SGD(learningRate: 1, clipValue: 0.5)
        byValue.apply([Tensor([3.0, -0.25], dtype: .float64)], to: [w])
        assertEqual(w.value.scalars(as: Double.self), [-1.1, -0.55])
        let global = SGD(learningRate: 1, globalClipNorm: 5)
        let a = Variable(Tensor([0.0], dtype: .float64)), b = Variable(Tensor([0.0], dtype: .float64))
        global.apply([Tensor([6.0], dtype: .float64), Tensor([8.0], dtype: .float64)], to: [a, b])
        assertEqual(a.value.scalars(as: Double.self) + b.value.scalars(as: Double.self), [-3, -4])
        global.apply(zip([Tensor([1.0], dtype: .float64)] as [Tensor?], [a]))
        XCTAssertEqual(global.iterations, 2)
    }

    func testSchedules() {
        let decay = ExponentialDecay(initialLearningRate: 1, decaySteps: 10, decayRate: 0.5)
        XCTAssertEqual(decay(10), 0.5, accuracy: 1e-12)
        XCTAssertEqual(decay(5), pow(0.5, 0.5), accuracy: 1e-12)
        XCTAssertEqual(ExponentialDecay(initialLearningRate: 1, decaySteps: 10, decayRate: 0.5, staircase: true)(15), 0.5)
        let cosine = CosineDecay(initialLearningRate: 2, decaySteps: 100, alpha: 0.1)
        XCTAssertEqual(cosine(0), 2, accuracy: 1e-12)
        XCTAssertEqual(cosine(100), 0.2, accuracy: 1e-12)
        XCTAssertEqual(cosine(50), 2 * (0.9 * 0.5 + 0.1), accuracy: 1e-12)
        let sgd = SGD(learningRate: .schedule(decay))
        let w = Variable(Tensor([0.0], dtype: .float64))
        for _ in 0..<11 { sgd.apply([Tensor([1.0], dtype: .float64)], to: [w]) }
        let expected = (0..<11).map { decay($0) }.reduce(0, +)
        XCTAssertEqual(w.value.scalar(as: Double.self), -expected, accuracy: 1e-12)
        XCTAssertEqual(SGD(learningRate: .schedule { $0 < 5 ? 1 : 0.5 }).currentLearningRate, 1)
    }
}

/// Variables of 128k elements and more update on all intra-op threads, dense
/// gradients and outer-product factors alike, with exactly the results of one thread.
final class ParallelOptimizerTests: XCTestCase {
    override func tearDown() { Threading.intraOpThreads = 0 }

    func testLargeUpdatesMatchOneThreadExactly() {
        // 5×60,001: rows wider than a tile, parts split mid-row; 60,001×3: narrow
        // rows in whole-row tiles, with part boundaries that cut rows.
        for (rows, cols) in [(5, 60_001), (60_001, 3)] {
            setRandomSeed(3)
            let a = Random.normal([1, rows]), b = Random.normal([1, cols])
            let initial = Random.normal([rows, cols])
            let optimizers: [() -> Optimizer] = [{ Adam(learningRate: 0.01, amsgrad: true) },
                                                 { SGD(learningRate: 0.1, momentum: 0.9) }, { RMSprop() }]
            for make in optimizers {
                func run(threads: Int, outer: Bool) -> [[Float]] {
                    Threading.intraOpThreads = threads
                    let optimizer = make()
                    var value = initial
                    var state = optimizer.makeState(for: Variable(initial))
                    let kernel = optimizer.kernel(for: .float32, learningRate: 0.01, gradientScale: 1)!
                    let gradient: Optimizer.GradientValue = outer ? .outer(a, b) : .dense(matmul(a, b, transposeA: true))
                    for _ in 0..<3 { optimizer.update(&value, gradient: gradient, state: &state, kernel: kernel, variable: "w") }
                    return ([value] + state).map { $0.scalars(as: Float.self) }
                }
                let reference = run(threads: 1, outer: false)
                XCTAssertNotEqual(reference[0], initial.scalars(as: Float.self), "the weights moved")
                for (threads, outer) in [(2, false), (1, true), (2, true)] {
                    let result = run(threads: threads, outer: outer)
                    XCTAssertTrue(result == reference, "\(type(of: make())) \(rows)×\(cols), \(threads) threads, outer \(outer)")
                }
            }
        }
    }
}

/// The optimizers written in tensor ops, and the fused kernels against their formulas.
extension OptimizerTests {
    /// A fused kernel reading g·s gives what it gives for the gradient scaled
    /// first, bit for bit (the averaged gradients of data-parallel training).
    func testAFusedKernelScalesTheGradientAsItReadsIt() {
        setRandomSeed(8)
        let initial = Random.normal([3, 37]), g = Random.normal([3, 37])
        let optimizers: [() -> Optimizer] = [{ SGD(learningRate: 0.1) }, { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true) },
                                             { Adam(learningRate: 0.01, amsgrad: true) }, { RMSprop(centered: true) }, { Adagrad() }]
        for dtype in [DType.float32, .float64] {
            for make in optimizers {
                func run(_ scale: Double, _ gradient: Tensor) -> [Tensor] {
                    let optimizer = make()
                    var value = initial.cast(to: dtype)
                    var state = optimizer.makeState(for: Variable(value))
                    let kernel = optimizer.kernel(for: dtype, learningRate: 0.01, gradientScale: scale)!
                    for _ in 0..<3 { optimizer.update(&value, gradient: .dense(gradient.cast(to: dtype)), state: &state, kernel: kernel, variable: "w") }
                    return [value] + state
                }
                XCTAssertEqual(run(0.25, g), run(1, g * 0.25), "\(type(of: make())) \(dtype)")
                XCTAssertNotEqual(run(0.5, g)[0], run(1, g)[0])
            }
        }
    }


    /// Three steps on w = [1, 2] with gradients [0.5, -1], [-0.25, 0.75], [0.5, -1].
    func runThree(_ optimizer: Optimizer, _ w0: [Double] = [1, 2], _ grads: [[Double]] = [[0.5, -1], [-0.25, 0.75]],
                  shape: TensorShape? = nil) -> [Double] {
        let w = Variable(Tensor(w0, dtype: .float64).reshaped(to: shape ?? [w0.count]))
        for t in 0..<3 {
            optimizer.apply([Tensor(grads[t % grads.count], dtype: .float64).reshaped(to: w.shape)], to: [w])
        }
        return w.value.scalars(as: Double.self)
    }

    // Expected values: Keras 3.x (JAX backend, float64 variables) on the same
    // gradients; Keras keeps the learning rate in float32 (0.1 → 0.10000000149),
    // hence the 1e-7 tolerance.
    func testLionMatchesKeras() {
        assertEqual(runThree(Lion(learningRate: 0.1)), [0.8999999985098839, 2.100000001490116], 1e-7)
    }

    func testNadamMatchesKeras() {
        let nadam = Nadam(learningRate: 0.1)
        assertEqual(runThree(nadam), [0.8594207145963022, 2.118316080858098], 1e-7)
        XCTAssertEqual(nadam.momentumProduct, (1...3).reduce(1.0) { $0 * 0.9 * (1 - 0.5 * pow(0.96, Double($1))) }, accuracy: 1e-15)
    }

    func testAdafactorMatchesKerasFactoredAndNot() {
        let grads = [[0.5, -1.0, 0.25, 2.0, 0.1, -0.3], [-0.2, 0.4, 1.0, 0.3, -0.6, 0.05]]
        let optimizer = Adafactor(learningRate: 0.1)
        assertEqual(runThree(optimizer, [1, 2, -1, 0.5, -0.5, 3], grads, shape: [2, 3]),
                    [0.88657125642898, 2.4652213950778625, -1.6350327344986533, 0.07024613382556139,
                     -0.38346851760836564, 3.1961133403031035], 1e-7)
        assertEqual(runThree(Adafactor(learningRate: 0.1)), [0.7877464331419923, 2.1684923361818957], 1e-7)
        // A scheduled rate is not capped by the relative step (0.5·0.5^t here).
        let scheduled = Adafactor(learningRate: .schedule(ExponentialDecay(initialLearningRate: 0.5, decaySteps: 1, decayRate: 0.5)))
        assertEqual(runThree(scheduled), [0.3162766670709719, 2.5687377615615383], 1e-7)
        // The factored state of a 2×3 kernel: row means (2,), column means (3,), the estimate (2, 3).
        let w = Variable(Tensor.ones([2, 3], dtype: .float64))
        XCTAssertEqual(optimizer.makeState(for: w).map(\.shape), [[2], [3], [2, 3]])
    }

    /// Each built-in optimizer's tensor-op `updateStep` is the formula its fused C
    /// kernel computes: the two paths agree over five steps.
    func testFusedKernelsMatchTheirTensorOpFormulas() {
        let makers: [(String, () -> Optimizer)] = [
            ("SGD", { SGD(learningRate: 0.1) }), ("SGD momentum", { SGD(learningRate: 0.1, momentum: 0.9) }),
            ("SGD nesterov", { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true) }),
            ("Adam", { Adam(learningRate: 0.1) }), ("Adam amsgrad", { Adam(learningRate: 0.1, amsgrad: true) }),
            ("AdamW", { AdamW(learningRate: 0.1, weightDecay: 0.01) }),
            ("RMSprop", { RMSprop(learningRate: 0.1) }),
            ("RMSprop centered momentum", { RMSprop(learningRate: 0.1, momentum: 0.5, centered: true) }),
            ("RMSprop momentum", { RMSprop(learningRate: 0.1, momentum: 0.5) }),
            ("Adagrad", { Adagrad(learningRate: 0.1) }),
        ]
        let grads: [[Double]] = [[0.5, -1, 2], [-0.25, 0.75, 0.1], [1, 1, -3]]
        for (name, make) in makers {
            let fused = make(), tensorOps = make()
            tensorOps.usesFusedKernels = false
            let a = Variable(Tensor([1.0, 2, -1], dtype: .float64)), b = Variable(Tensor([1.0, 2, -1], dtype: .float64))
            for t in 0..<5 {
                let g = Tensor(grads[t % 3], dtype: .float64)
                fused.apply([g], to: [a])
                tensorOps.apply([g], to: [b])
            }
            let (x, y) = (a.value.scalars(as: Double.self), b.value.scalars(as: Double.self))
            for (p, q) in zip(x, y) { XCTAssertEqual(p, q, accuracy: 1e-12, name) }
            XCTAssertNotEqual(x, [1, 2, -1], name)
        }
    }

    func testAnUpdateStepThatChangesTheStateLayoutTraps() {
        final class Broken: Optimizer {
            override func makeState(for variable: Variable) -> [Tensor] { [Tensor.zeros(variable.shape)] }
            override func updateStep(gradient: Tensor, variable: Variable, state: inout [Tensor], learningRate: Double) {
                state = [Tensor.zeros([7])]
            }
        }
        assertTraps("Broken.updateStep changed the state's layout", "state slot 0") {
            Broken().apply([Tensor([1] as [Float])], to: [Variable(Tensor([0] as [Float]))])
        }
    }
}
