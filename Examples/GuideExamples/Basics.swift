import DeepSwift

/// The guide's first sections: tensors, variables, math and gradients.
public enum Basics {
    public static func tensors(_ o: GuideOptions) {
        var x = Tensor([[5, 2], [1, 3]])
        o.log("\(x)")
        o.log("\(x.array(as: [[Int32]].self))")
        o.log("dtype: \(x.dtype)")
        o.log("shape: \(x.shape)")
        o.log("\(Tensor.ones([2, 1]))")
        o.log("\(Tensor.zeros([2, 1]))")
        x = Random.normal([2, 2], mean: 0, stddev: 1)
        x = Random.uniform([2, 2], min: 0, max: 10, dtype: .int32)
        o.log("\(x)")
    }

    public static func variables(_ o: GuideOptions) {
        let initialValue = Random.normal([2, 2])
        let a = Variable(initialValue)
        o.log("\(a)")
        let newValue = Random.normal([2, 2])
        a.assign(newValue)
        for i in 0..<2 { for j in 0..<2 { precondition(a[i, j] == newValue[i, j]) } }
        let addedValue = Random.normal([2, 2])
        a.assignAdd(addedValue)
        for i in 0..<2 { for j in 0..<2 { precondition(a[i, j] == newValue[i, j] + addedValue[i, j]) } }
    }

    public static func math(_ o: GuideOptions) {
        let a = Random.normal([2, 2])
        let b = Random.normal([2, 2])
        let c = a + b
        let d = square(c)
        let e = exp(d)
        o.log("\(e)")
    }

    /// Returns a, b, dc/da and d²c/da² for checking against their closed forms.
    @discardableResult
    public static func gradients(_ o: GuideOptions) -> (a: Tensor, b: Tensor, dcda: Tensor, d2cda2: Tensor) {
        let a = Random.normal([2, 2])
        let b = Random.normal([2, 2])
        let tape = GradientTape()
        tape.record {
            tape.watch(a)   // Start recording the history of operations applied to `a`.
            let c = sqrt(square(a) + square(b))   // Do some math using `a`.
            let dcda = tape.gradient(of: c, wrt: a)!   // What's the gradient of `c` with respect to `a`?
            o.log("\(dcda)")
        }
        // Variables are watched automatically.
        let av = Variable(a)
        let tape2 = GradientTape()
        tape2.record {
            let c = sqrt(square(av) + square(b))
            o.log("\(tape2.gradient(of: c, wrt: av)!)")
        }
        // Higher-order derivatives by nesting tapes.
        let outerTape = GradientTape()
        let (dcda, d2cda2) = outerTape.record { () -> (Tensor, Tensor) in
            let tape = GradientTape()
            let dcda = tape.record {
                let c = sqrt(square(av) + square(b))
                return tape.gradient(of: c, wrt: av)!
            }
            let d2cda2 = outerTape.gradient(of: dcda, wrt: av)!
            o.log("\(d2cda2)")
            return (dcda, d2cda2)
        }
        return (a, b, dcda, d2cda2)
    }
}
