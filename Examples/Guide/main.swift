// The guide, in Swift. Until the later parts exist, this runs the guide's
// "Tensors" and "Doing math" sections.
import DeepSwift

print("## Tensors")
let x = Tensor([[5, 2], [1, 3]])
print(x)
print(x.array(as: [[Int32]].self))
print("dtype:", x.dtype)
print("shape:", x.shape)
print(Tensor.ones([2, 1]))
print(Tensor.zeros([2, 1]))
let normal = Random.normal([2, 2], mean: 0, stddev: 1)
let uniform = Random.uniform([2, 2], min: 0, max: 10, dtype: .int32)
print(normal)
print(uniform)

print("## Doing math")
let a = Random.normal([2, 2])
let b = Random.normal([2, 2])
let c = a + b
let d = square(c)
let e = exp(d)
print(e)
