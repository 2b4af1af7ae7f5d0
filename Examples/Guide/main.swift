// The guide, in Swift: each section below is the counterpart of a section of
// "Introduction to Keras for Researchers", printing what the guide prints
// (the numbers differ: other random draws). Later parts arrive with the
// layers, training and data issues.
import DeepSwift

func section(_ title: String) { print("\n## \(title)\n") }

section("Tensors")
var x = Tensor([[5, 2], [1, 3]])
print(x)
print(x.array(as: [[Int32]].self))
print("dtype:", x.dtype)
print("shape:", x.shape)
print(Tensor.ones([2, 1]))
print(Tensor.zeros([2, 1]))
x = Random.normal([2, 2], mean: 0, stddev: 1)
x = Random.uniform([2, 2], min: 0, max: 10, dtype: .int32)

section("Variables")
let initialValue = Random.normal([2, 2])
let a = Variable(initialValue)
print(a)
let newValue = Random.normal([2, 2])
a.assign(newValue)
for i in 0..<2 { for j in 0..<2 { precondition(a[i, j] == newValue[i, j]) } }
let addedValue = Random.normal([2, 2])
a.assignAdd(addedValue)
for i in 0..<2 { for j in 0..<2 { precondition(a[i, j] == newValue[i, j] + addedValue[i, j]) } }

section("Doing math")
do {
    let a = Random.normal([2, 2])
    let b = Random.normal([2, 2])
    let c = a + b
    let d = square(c)
    let e = exp(d)
    print(e)
}

section("Gradients")
do {
    let a = Random.normal([2, 2])
    let b = Random.normal([2, 2])
    do {
        let tape = GradientTape()
        tape.record {
            tape.watch(a)   // Start recording the history of operations applied to `a`
            let c = sqrt(square(a) + square(b))   // Do some math using `a`
            // What's the gradient of `c` with respect to `a`?
            let dcda = tape.gradient(of: c, wrt: a)!
            print(dcda)
        }
    }
    // Variables are watched automatically.
    let av = Variable(a)
    do {
        let tape = GradientTape()
        tape.record {
            let c = sqrt(square(av) + square(b))
            let dcda = tape.gradient(of: c, wrt: av)!
            print(dcda)
        }
    }
    // Higher-order derivatives by nesting tapes.
    let outerTape = GradientTape()
    outerTape.record {
        let tape = GradientTape()
        let dcda = tape.record {
            let c = sqrt(square(av) + square(b))
            return tape.gradient(of: c, wrt: av)!
        }
        let d2cda2 = outerTape.gradient(of: dcda, wrt: av)!
        print(d2cda2)
    }
}
