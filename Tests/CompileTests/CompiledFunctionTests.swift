import XCTest
import Compile
import Autodiff
import TestSupport

/// The compiler without layers: tracing, retracing, frozen Swift values, random
/// sources, dead-code elimination, elementwise fusion, in-place accumulation and
/// the backward pass as part of the graph.
final class CompiledFunctionTests: XCTestCase {
    func testRetracesOnANewShapeOnly() {
        var traces = 0
        let f = compiled { (x: Tensor) -> Tensor in
            traces += 1   // Swift code: runs at trace time only
            return (x * 2).sum(axis: 1)
        }
        XCTAssertEqual(f(Tensor([[1, 2], [3, 4]] as [[Float]])).scalars(as: Float.self), [6, 14])
        XCTAssertEqual(f(Tensor([[5, 6], [7, 8]] as [[Float]])).scalars(as: Float.self), [22, 30])
        XCTAssertEqual(traces, 1)
        XCTAssertEqual(f(Tensor([[1, 1, 1]] as [[Float]])).scalars(as: Float.self), [6])
        XCTAssertEqual(f.traceCount, 2)
        XCTAssertEqual(f(Tensor([[1, 1], [1, 1]] as [[Float]]).cast(to: .float64)).scalars(as: Double.self), [4, 4])
        XCTAssertEqual(f.traceCount, 3, "a new dtype traces again")
        XCTAssertEqual(f(Tensor([[0, 1], [2, 3]] as [[Float]])).scalars(as: Float.self), [2, 10])
        XCTAssertEqual(traces, 3)
    }

    func testFrequentRetracingWarnsOnce() {
        var warnings: [String] = []
        let saved = CompiledFunction.warningHandler
        CompiledFunction.warningHandler = { warnings.append($0) }
        defer { CompiledFunction.warningHandler = saved }
        let f = compiled(name: "varying") { (x: Tensor) -> Tensor in x * 2 }
        for n in 1...8 { _ = f(Tensor.ones([n])) }
        XCTAssertEqual(f.traceCount, 8)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].hasPrefix("DeepSwift warning: compiled function 'varying' has been traced 6 times"), warnings[0])
        XCTAssertTrue(warnings[0].contains("(the latest: (6,))"), warnings[0])
        for n in 1...8 { _ = f(Tensor.ones([n])) }   // all traced already: replays only
        XCTAssertEqual(f.traceCount, 8)
    }

    func testSwiftValuesAreFrozenAtTraceTime() {
        var scale = 2.0
        var printed: [String] = []
        let f = compiled { (x: Tensor) -> Tensor in
            printed.append("tracing with \(x.shape)")   // like print: once per trace
            let first = x[0].scalar(as: Float.self)     // a Swift value read from a tensor
            return x * scale + Double(first)
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [3, 5])
        scale = 10
        // Both the captured scale and the value read from x stay as traced.
        XCTAssertEqual(f(Tensor([5, 6] as [Float])).scalars(as: Float.self), [11, 13])
        XCTAssertEqual(printed, ["tracing with (2,)"])
    }

    func testRandomOpsDrawFreshNumbersOnEveryReplay() {
        let f = compiled { (x: Tensor) -> Tensor in x + Random.normal(x.shape) }
        let zeros = Tensor.zeros([4])
        setRandomSeed(3)
        let draws = (0..<3).map { _ in f(zeros).scalars(as: Float.self) }
        XCTAssertNotEqual(draws[0], draws[1])
        XCTAssertNotEqual(draws[1], draws[2])
        // The same numbers as eager draws from the same seed.
        setRandomSeed(3)
        let eager = (0..<3).map { _ in Random.normal([4]).scalars(as: Float.self) }
        XCTAssertEqual(draws, eager)
    }

    func testUnusedOpsAreDropped() {
        let f = compiled { (x: Tensor) -> Tensor in
            _ = exp(x) * 3          // computed at trace time, unused
            return x + 1
        }
        let x = Tensor([1, 2] as [Float])
        XCTAssertEqual(f(x).scalars(as: Float.self), [2, 3])
        let summary = f.graphSummary(for: [x])
        XCTAssertEqual(summary?.steps, 1)
        XCTAssertEqual(summary?.dropped, 2)
    }

    func testElementwiseChainsRunAsOneFusedStep() {
        // The VAE's KL term: five elementwise ops in one pass, then the mean.
        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let (zMean, zLogVar) = (args[0], args[1])
            return [-0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()]
        }
        let zMean = Random.normal([64, 32]), zLogVar = Random.normal([64, 32]) * 0.1
        let eager = -0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()
        XCTAssertEqual(f([zMean, zLogVar])[0].scalar(as: Float.self), eager.scalar(as: Float.self))
        // Replays, on new values, give exactly the eager results (the same kernels).
        for _ in 0..<3 {
            let (m, v) = (Random.normal([64, 32]), Random.normal([64, 32]))
            XCTAssertEqual(f([m, v])[0].scalar(as: Float.self),
                           (-0.5 * (v - square(m) - exp(v) + 1).mean()).scalar(as: Float.self))
        }
        // square → subtract → subtract(exp) → add in one chain (exp runs before it as
        // the chain's operand), then the mean's divide → multiply by -0.5.
        XCTAssertEqual(f.graphSummary(for: [zMean, zLogVar])?.fused, 6)
        XCTAssertEqual(f.graphSummary(for: [zMean, zLogVar])?.steps, 4)   // exp, the chain, sum, the chain
        // A chain longer than one tile, with a single-element operand on either side.
        let g = compiled { (x: Tensor) -> Tensor in sigmoid(2 - relu(x) * 3) / 4 }
        let x = Random.normal([5000])
        XCTAssertEqual(g(x), sigmoid(2 - relu(x) * 3) / 4)
        let y = Random.normal([5000])
        XCTAssertEqual(g(y), sigmoid(2 - relu(y) * 3) / 4)
        XCTAssertEqual(g.graphSummary(for: [x])?.steps, 1)
    }

    /// Slice gradients are summed into their tensor's gradient in place when the
    /// sum has no other use, and into a copy when it has, on every replay.
    func testSliceGradientsAccumulateOnReplay() {
        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let (x, z) = (args[0], args[1])
            let tape = GradientTape()
            tape.watch(x)
            tape.watch(z)
            // Backwards, (x + z) comes first: x's running sum starts as the tensor
            // that is also z's gradient, so the first slice adds into a copy.
            let y = tape.record { () -> Tensor in
                x[.all, .range(nil, nil, stride: 2)].sum() + (x[.all, 0..<3] * 2).sum()
                    + (x[.all, 2..<6] * 3).sum() + (x + z).sum()
            }
            let grads = tape.gradient(of: y, wrt: [x, z])
            return [grads[0]!, grads[1]!]
        }
        let expectedX: [Float] = (0..<12).map { i in
            let col = i % 6
            return 1 + (col < 3 ? 2 : 0) + (col >= 2 ? 3 : 0) + (col % 2 == 0 ? 1 : 0)
        }
        for _ in 0..<3 {
            let (x, z) = (Random.normal([2, 6]), Random.normal([2, 6]))
            let grads = f([x, z])
            XCTAssertEqual(grads[0].scalars(as: Float.self), expectedX)
            XCTAssertEqual(grads[1].scalars(as: Float.self), [Float](repeating: 1, count: 12))
        }
        XCTAssertEqual(f.replayAllocations, 0)
    }

    func testResultsKeptByTheCallerAreNotOverwritten() {
        let f = compiled { (x: Tensor) -> Tensor in relu(x * 2) - 1 }
        let a = f(Tensor([1, 2] as [Float]))
        let b = f(Tensor([3, 4] as [Float]))
        let c = f(Tensor([5, 6] as [Float]))
        XCTAssertEqual(a.scalars(as: Float.self), [1, 3])
        XCTAssertEqual(b.scalars(as: Float.self), [5, 7])
        XCTAssertEqual(c.scalars(as: Float.self), [9, 11])
    }

    func testGradientsOfTheInputsThroughACompiledStep() {
        // The backward pass is part of the graph: d/dx sum(x^3) = 3x^2 on every replay.
        let f = compiled { (x: Tensor) -> Tensor in
            let tape = GradientTape()
            tape.watch(x)
            let y = tape.record { (x * x * x).sum() }
            return tape.gradient(of: y, wrt: x)!
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [3, 12])
        XCTAssertEqual(f(Tensor([3, -1] as [Float])).scalars(as: Float.self), [27, 3])

        // Nested tapes: the second derivative 6x, replayed.
        let second = compiled { (x: Tensor) -> Tensor in
            let outer = GradientTape()
            outer.watch(x)
            let dy = outer.record { () -> Tensor in
                let inner = GradientTape()
                inner.watch(x)
                let y = inner.record { (x * x * x).sum() }
                return inner.gradient(of: y, wrt: x)!
            }
            return outer.gradient(of: dy, wrt: x)!
        }
        XCTAssertEqual(second(Tensor([1, 2] as [Float])).scalars(as: Float.self), [6, 12])
        XCTAssertEqual(second(Tensor([-1, 0.5] as [Float])).scalars(as: Float.self), [-6, 3])

        // Returning an argument, a constant and the same result twice.
        let g = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let y = args[0] * 2
            return [args[0], Tensor(7 as Float), y, y]
        }
        for v in [Float(1), 5] {
            let out = g([Tensor([v])])
            XCTAssertEqual(out.map { $0.scalars(as: Float.self) }, [[v], [7], [2 * v], [2 * v]])
        }
    }
}
