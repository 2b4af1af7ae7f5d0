import XCTest
@testable import GuideExamples
import DeepSwift
import TestSupport

/// The guide's `@tf.function` steps of the VAE and the hypernetwork, compiled:
/// 100 compiled steps give the losses and weights of 100 eager steps from the same
/// seed, random sampling included.
final class CompiledGuideTests: XCTestCase {
    private func batches(_ count: Int, batch: Int) -> [(Tensor, Tensor)] {
        setRandomSeed(5)
        return (0..<count).map { _ in
            (Random.uniform([batch, 784]), Random.uniform([batch], min: 0, max: 10, dtype: .int32))
        }
    }

    private func assertSame(_ compiled: [Float], _ eager: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(compiled.count, eager.count, file: file, line: line)
        for (i, (a, b)) in zip(compiled, eager).enumerated() where !(abs(a - b) <= 1e-5 * Swift.max(1, abs(b))) {
            XCTFail("step \(i): compiled \(a) vs eager \(b)", file: file, line: line)
            return
        }
    }

    func testCompiledVAEMatchesEager() {
        let data = batches(10, batch: 32)
        func run(compiledStep: Bool) -> ([Float], [Tensor], Int) {
            setRandomSeed(1)
            let vae = VariationalAutoEncoder(originalDim: 784, intermediateDim: 64, latentDim: 32)
            _ = vae(data[0].0)
            let lossFn = MeanSquaredError(), optimizer = Adam(learningRate: 1e-3)
            let step = compiled { (x: Tensor) -> Tensor in vaeTrainingStep(vae, x, lossFn, optimizer) }
            setRandomSeed(2)   // the sampling layer's draws
            let losses = (0..<100).map { i -> Float in
                let x = data[i % data.count].0
                return (compiledStep ? step(x) : vaeTrainingStep(vae, x, lossFn, optimizer)).scalar(as: Float.self)
            }
            return (losses, vae.trainableWeights.map(\.value), step.traceCount)
        }
        let (eagerLosses, eagerWeights, _) = run(compiledStep: false)
        let (losses, weights, traces) = run(compiledStep: true)
        XCTAssertEqual(traces, 1)
        XCTAssertLessThan(losses.suffix(10).reduce(0, +), losses.prefix(10).reduce(0, +))
        assertSame(losses, eagerLosses)
        for (w, e) in zip(weights, eagerWeights) { assertClose(w, e, tolerance: 1e-5) }
    }

    func testCompiledHypernetworkMatchesEager() {
        let data = batches(20, batch: 1)
        func run(compiledStep: Bool) -> ([Float], [Tensor]) {
            setRandomSeed(1)
            let net = Hypernetwork()
            _ = net.innerModel(data[0].0)
            let step = compiled { (x: Tensor, y: Tensor) -> Tensor in net.trainStep(x, y) }
            let losses = (0..<100).map { i -> Float in
                let (x, y) = data[i % data.count]
                return (compiledStep ? step(x, y) : net.trainStep(x, y)).scalar(as: Float.self)
            }
            if compiledStep { XCTAssertEqual(step.replayAllocations, 0) }
            return (losses, net.innerModel.trainableWeights.map(\.value))
        }
        let (eagerLosses, eagerWeights) = run(compiledStep: false)
        let (losses, weights) = run(compiledStep: true)
        XCTAssertLessThan(losses.suffix(20).reduce(0, +), losses.prefix(20).reduce(0, +), "the loss falls")
        assertSame(losses, eagerLosses)
        for (w, e) in zip(weights, eagerWeights) { assertClose(w, e, tolerance: 1e-5) }
    }
}
