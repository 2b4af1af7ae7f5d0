import XCTest
import Autodiff

/// Checks reverse-mode derivatives of `f` at `inputs` against central finite
/// differences, in float64 (inputs are cast to float64 first).
///
/// First order: the vector–Jacobian product with a random output weighting `w`,
/// i.e. the gradient of `Σ w·f(x)`, against finite differences of that sum.
/// Second order (when `secondOrder`): the gradient, taken by an outer tape, of
/// `Σ v·∇(Σ w·f)(x)` — a Hessian–vector product computed through nested tapes —
/// against finite differences of the inner gradient.
public func checkGradients(_ inputs: [Tensor], secondOrder: Bool = true, tolerance: Double = 1e-5,
                           file: StaticString = #filePath, line: UInt = #line,
                           _ f: @escaping ([Tensor]) -> Tensor) {
    var generator = RandomGenerator(seed: 1234)
    let xs = inputs.map { $0.cast(to: .float64) }
    let y0 = f(xs)
    XCTAssertEqual(y0.dtype, .float64, "the function must keep float64", file: file, line: line)
    let w = Random.uniform(y0.shape, min: 0.5, max: 1.5, dtype: .float64, using: &generator)
    let vs = xs.map { Random.uniform($0.shape, min: -1, max: 1, dtype: .float64, using: &generator) }

    /// Σ w·f(x) and its gradient with respect to every input.
    func weightedGradient(_ xs: [Tensor]) -> [Tensor] {
        let tape = GradientTape()
        let y = tape.record { () -> Tensor in
            tape.watch(xs)
            return f(xs)
        }
        return tape.gradient(of: y, wrt: xs, outputGradient: w, unconnectedGradients: .zero).map { $0! }
    }
    func weightedValue(_ xs: [Tensor]) -> Double { (f(xs) * w).sum().scalar(as: Double.self) }

    compare(analytic: weightedGradient(xs), numeric: finiteDifferences(xs, weightedValue),
            what: "first-order gradient", tolerance: tolerance, file: file, line: line)

    guard secondOrder else { return }
    /// Σ v·∇(Σ w·f)(x): its gradient is the Hessian–vector product Hv.
    func hvpValue(_ xs: [Tensor]) -> Double {
        zip(weightedGradient(xs), vs).map { ($0 * $1).sum().scalar(as: Double.self) }.reduce(0, +)
    }
    let outer = GradientTape()
    let h = outer.record { () -> Tensor in
        outer.watch(xs)
        let inner = GradientTape()
        let y = inner.record { () -> Tensor in
            inner.watch(xs)
            return f(xs)
        }
        let grads = inner.gradient(of: y, wrt: xs, outputGradient: w, unconnectedGradients: .zero).map { $0! }
        return zip(grads, vs).map { ($0 * $1).sum() }.reduce(Tensor(0, dtype: .float64), +)
    }
    let analytic = outer.gradient(of: h, wrt: xs, unconnectedGradients: .zero).map { $0! }
    compare(analytic: analytic, numeric: finiteDifferences(xs, hvpValue),
            what: "second-order gradient", tolerance: tolerance * 10, file: file, line: line)
}

/// Central differences of a scalar function with respect to every element of every input.
func finiteDifferences(_ xs: [Tensor], _ value: ([Tensor]) -> Double) -> [Tensor] {
    let eps = 1e-6
    return xs.indices.map { i in
        var scalars = xs[i].scalars(as: Double.self)
        var grad = [Double](repeating: 0, count: scalars.count)
        for j in scalars.indices {
            let saved = scalars[j]
            var shifted = xs
            scalars[j] = saved + eps
            shifted[i] = Tensor(shape: xs[i].shape, scalars: scalars)
            let plus = value(shifted)
            scalars[j] = saved - eps
            shifted[i] = Tensor(shape: xs[i].shape, scalars: scalars)
            let minus = value(shifted)
            scalars[j] = saved
            grad[j] = (plus - minus) / (2 * eps)
        }
        return Tensor(shape: xs[i].shape, scalars: grad)
    }
}

private func compare(analytic: [Tensor], numeric: [Tensor], what: String, tolerance: Double,
                     file: StaticString, line: UInt) {
    for (i, (a, n)) in zip(analytic, numeric).enumerated() {
        XCTAssertEqual(a.shape, n.shape, "\(what) of input \(i): shape", file: file, line: line)
        XCTAssertEqual(a.dtype, .float64, "\(what) of input \(i): dtype", file: file, line: line)
        let av = a.scalars(as: Double.self), nv = n.scalars(as: Double.self)
        for j in av.indices where !(Swift.abs(av[j] - nv[j]) <= tolerance * Swift.max(1, Swift.abs(nv[j]))) {
            XCTFail("\(what) of input \(i) at element \(j): tape \(av[j]) vs finite differences \(nv[j])",
                    file: file, line: line)
            return
        }
    }
}
