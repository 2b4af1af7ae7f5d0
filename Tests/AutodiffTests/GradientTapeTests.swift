import XCTest
import Foundation
@_spi(Autodiff) import Autodiff
import TestSupport

final class GradientTapeTests: XCTestCase {
    func testUnwatchedTensorsHaveNoGradient() {
        let x = Tensor([1.0, 2]), y = Tensor([3.0, 4])
        let tape = GradientTape()
        let z = tape.record { () -> Tensor in
            tape.watch(x)
            return (x * y).sum()
        }
        XCTAssertEqual(tape.gradient(of: z, wrt: [x, y]).map { $0?.scalars(as: Float.self) }, [[3, 4], nil])
    }

    /// Gradients of several (overlapping, strided) slices of one tensor and of a
    /// tensor used many times are summed in place; the values are the plain sums,
    /// and tensors the caller holds are never written to.
    func testAccumulatedGradientsOfSlicesAndRepeatedUses() {
        let x = Tensor(shape: [2, 6], scalars: (0..<12).map(Float.init))
        let seed = Tensor.ones([2, 6])
        let tape = GradientTape()
        tape.watch(x)
        let y = tape.record { () -> Tensor in
            let a = x[.all, 0..<4] * 1          // columns 0-3
            let b = x[.all, 2..<6] * 2          // columns 2-5, overlapping
            let c = x[.all, .range(nil, nil, stride: 2)] * 3   // columns 0, 2, 4
            return a.sum() + b.sum() + c.sum() + (x * x).sum() + x.sum()
        }
        let g = tape.gradient(of: y, wrt: x)!
        let expected: [Float] = (0..<12).map { i in
            let col = i % 6
            return (col < 4 ? 1 : 0) + (col >= 2 ? 2 : 0) + (col % 2 == 0 ? 3 : 0) + 2 * Float(i) + 1
        }
        XCTAssertEqual(g.scalars(as: Float.self), expected)
        XCTAssertEqual(seed, Tensor.ones([2, 6]))

        // A caller's outputGradient is shared, so it is never accumulated into.
        let upstream = Tensor.ones([2, 6])
        let t2 = GradientTape()
        t2.watch(x)
        let z = t2.record { x + x }
        XCTAssertEqual(t2.gradient(of: z, wrt: x, outputGradient: upstream)!.scalars(as: Float.self),
                       [Float](repeating: 2, count: 12))
        XCTAssertEqual(upstream, Tensor.ones([2, 6]))
    }

    func testUnconnectedZeroOption() {
        let x = Tensor([1.0, 2]), u = Tensor([5.0])
        let tape = GradientTape(persistent: true)
        let z = tape.record { () -> Tensor in
            tape.watch([x, u])
            return x.sum()
        }
        XCTAssertNil(tape.gradient(of: z, wrt: u))
        XCTAssertEqual(tape.gradient(of: z, wrt: u, unconnectedGradients: .zero), Tensor([0.0]))
    }

    func testNonTrainableVariablesAreNotWatched() {
        let w = Variable(Tensor([2.0]), trainable: false), v = Variable(Tensor([3.0]))
        let tape = GradientTape()
        let z = tape.record { (w * v).sum() }
        let grads = tape.gradient(of: z, wrt: [w, v])
        XCTAssertNil(grads[0])
        XCTAssertEqual(grads[1], Tensor([2.0]))
        XCTAssertTrue(tape.watchedVariables.elementsEqual([v], by: ===))
    }

    func testExplicitlyWatchedNonTrainableVariable() {
        let w = Variable(Tensor([2.0]), trainable: false)
        let tape = GradientTape()
        let z = tape.record { () -> Tensor in
            tape.watch(w)
            return square(w).sum()
        }
        XCTAssertEqual(tape.gradient(of: z, wrt: w), Tensor([4.0]))
    }

    func testWatchAccessedVariablesOff() {
        let v = Variable(Tensor([3.0]))
        let tape = GradientTape(watchAccessedVariables: false)
        let z = tape.record { (v * v).sum() }
        XCTAssertNil(tape.gradient(of: z, wrt: v))
    }

    func testNonScalarTargetMeansSumAndOutputGradientWeights() {
        let x = Tensor([1.0, 2, 3])
        let tape = GradientTape(persistent: true)
        let y = tape.record { () -> Tensor in
            tape.watch(x)
            return square(x)
        }
        XCTAssertEqual(tape.gradient(of: y, wrt: x), Tensor([2.0, 4, 6]))
        XCTAssertEqual(tape.gradient(of: y, wrt: x, outputGradient: Tensor([1.0, 0, 10])), Tensor([2.0, 0, 60]))
    }

    func testPersistentAndNonPersistent() {
        let x = Tensor([2.0])
        let persistent = GradientTape(persistent: true)
        let y = persistent.record { () -> Tensor in
            persistent.watch(x)
            return x * x * x
        }
        XCTAssertEqual(persistent.gradient(of: y, wrt: x), Tensor([12.0]))
        XCTAssertEqual(persistent.gradient(of: y, wrt: x), Tensor([12.0]))
        assertTraps("non-persistent tape computes gradients only once", "persistent: true") {
            let tape = GradientTape()
            let z = tape.record { () -> Tensor in
                tape.watch(x)
                return x * x
            }
            _ = tape.gradient(of: z, wrt: x)
            _ = tape.gradient(of: z, wrt: x)
        }
    }

    func testMultipleUsesAccumulate() {
        let v = Variable(Tensor([3.0]))
        let tape = GradientTape()
        let z = tape.record { () -> Tensor in
            let a = v * v          // 9
            v.assignAdd(Tensor([1.0]))
            return (a + v * 2).sum()   // the second read is the new value, 4
        }
        // d/dv of v0² + 2·v1, where both reads come from the same variable: 2·3 + 2.
        XCTAssertEqual(tape.gradient(of: z, wrt: v), Tensor([8.0]))
    }

    func testDictionaryOfSources() {
        let x = Tensor([1.0]), y = Tensor([2.0])
        let tape = GradientTape()
        let z = tape.record { () -> Tensor in
            tape.watch([x, y])
            return (x * 5 + y * 7).sum()
        }
        let grads = tape.gradient(of: z, wrt: ["x": x, "y": y] as [String: any TensorConvertible])
        XCTAssertEqual(grads["x"], Tensor([5.0]))
        XCTAssertEqual(grads["y"], Tensor([7.0]))
    }

    func testStopGradientAndStopRecording() {
        let x = Tensor([3.0])
        let tape = GradientTape(persistent: true)
        let (y, z) = tape.record { () -> (Tensor, Tensor) in
            tape.watch(x)
            let y = x * stopGradient(x)
            let z = tape.stopRecording { x * x }
            return (y, z)
        }
        XCTAssertEqual(tape.gradient(of: y, wrt: x), Tensor([3.0]))
        XCTAssertNil(tape.gradient(of: z, wrt: x))
    }

    func testIntegerTensorsAreNotDifferentiated() {
        let i = Tensor([1, 2]), f = Tensor([1.0, 2])
        let tape = GradientTape(persistent: true)
        let (yi, yf) = tape.record { () -> (Tensor, Tensor) in
            tape.watch([i, f])
            return (i * i, f * i.cast(to: .float32))
        }
        XCTAssertNil(tape.gradient(of: yi, wrt: i))
        XCTAssertNil(tape.gradient(of: yf, wrt: i))
        XCTAssertEqual(tape.gradient(of: yf, wrt: f), Tensor([1.0, 2]))
    }

    func testNoTapeRecordsNothing() {
        XCTAssertNil(RecorderSet.current)
        let tape = GradientTape()
        tape.record { XCTAssertNotNil(RecorderSet.current) }
        XCTAssertNil(RecorderSet.current)
    }

    func testJacobian() {
        // y = [x0·x1, x0², sin(x1)] → J = [[x1, x0], [2x0, 0], [0, cos x1]].
        let x = Tensor([2.0, 3.0], dtype: .float64)
        let tape = GradientTape()
        let y = tape.record { () -> Tensor in
            tape.watch(x)
            return Tensor(concatenating: [(x[0] * x[1]).reshaped(to: [1]), square(x[0]).reshaped(to: [1]),
                                          sin(x[1]).reshaped(to: [1])])
        }
        let j = tape.jacobian(of: y, wrt: x)!
        XCTAssertEqual(j.shape, [3, 2])
        assertClose(j, Tensor(shape: [3, 2], scalars: [3, 2, 4, 0, 0, Foundation.cos(3.0)]), tolerance: 1e-12)
    }

    func testBatchJacobian() {
        // Per example: y = x ⊙ w (w: 3) summed into 2 outputs [Σx·w, Σx²].
        let x = Tensor([[1.0, 2, 3], [4, 5, 6]], dtype: .float64)
        let w = Tensor([1.0, 10, 100], dtype: .float64)
        let tape = GradientTape()
        let y = tape.record { () -> Tensor in
            tape.watch(x)
            return Tensor(stacking: [(x * w).sum(axis: 1), square(x).sum(axis: 1)], alongAxis: 1)
        }
        let j = tape.batchJacobian(of: y, wrt: x)!
        XCTAssertEqual(j.shape, [2, 2, 3])
        XCTAssertEqual(j[0].array(as: [[Double]].self), [[1, 10, 100], [2, 4, 6]])
        XCTAssertEqual(j[1].array(as: [[Double]].self), [[1, 10, 100], [8, 10, 12]])
    }

    func testTapesArePerThread() {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int: Double] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let x = Tensor([Double(i)], dtype: .float64)
            let tape = GradientTape()
            let y = tape.record { () -> Tensor in
                tape.watch(x)
                var v = x
                for _ in 0..<50 { v = v * 1 }
                return v * v
            }
            let g = tape.gradient(of: y, wrt: x)!.scalar(as: Double.self)
            results.lock.lock()
            results.values[i] = g
            results.lock.unlock()
        }
        XCTAssertEqual(results.values, Dictionary(uniqueKeysWithValues: (0..<8).map { ($0, 2 * Double($0)) }))
    }

    func testRecordsAreReleased() {
        // A thousand forward + gradient steps hold on to nothing: every value the
        // tapes kept dies with them.
        weak var lastTape: GradientTape?
        let w = Variable(Random.normal([64, 64]))
        let x = Random.normal([8, 64])
        func step() {
            let tape = GradientTape()
            let loss = tape.record { relu(matmul(x, w)).sum() }
            w.assignSub(tape.gradient(of: loss, wrt: w)! * 1e-3)
            lastTape = tape
        }
        for _ in 0..<10 { step() }
        // Each step makes ~100 KB of tensors; keeping them would grow the process by ~100 MB.
        let before = residentKilobytes()
        for _ in 0..<1000 { step() }
        let grown = residentKilobytes() - before
        XCTAssertLessThan(grown, 8 * 1024, "resident memory grew by \(grown) KB over 1,000 steps")
        XCTAssertNil(lastTape)
        XCTAssertNil(RecorderSet.current)
    }
}

/// The process's resident set size, from /proc/self/status.
private func residentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}
