@_spi(Autodiff) import TensorCore

/// Mutable state, such as a layer's weights, as `tf.Variable`.
///
/// Reading ``value`` inside a ``GradientTape`` watches a trainable variable
/// automatically. Math accepts variables directly: `matmul(x, w) + b`.
///
/// ```swift
/// let a = Variable(Random.normal([2, 2]))
/// a.assign(Random.normal([2, 2]))
/// a.assignAdd(Tensor.ones([2, 2]))
/// print(a)
/// // <DeepSwift.Variable 'Variable:0' shape=(2, 2) dtype=float32, numpy=
/// // array([[...]], dtype=float32)>
/// ```
public final class Variable: TensorConvertible, CustomStringConvertible, ReadableState {
    private var current: Tensor
    /// The variable's name, as in `Variable:0` of TensorFlow's printout.
    public var name: String
    /// Whether gradient tapes watch it automatically and optimizers train it.
    public var trainable: Bool

    /// A variable holding `initialValue`.
    public init(_ initialValue: Tensor, name: String = "Variable", trainable: Bool = true) {
        self.current = initialValue
        self.name = name
        self.trainable = trainable
        TrackingEpoch.advance()
    }

    /// The current value. Reading it inside a recording tape watches the variable
    /// (when trainable).
    public var value: Tensor {
        reportStateRead(current, from: self)
        return current
    }

    /// The current value, read without reporting to recorders (a replay's read).
    public func valueForReplay() -> Tensor { current }

    public var tensor: Tensor { value }
    /// The element type.
    public var dtype: DType { current.dtype }
    /// The size of each axis.
    public var shape: TensorShape { current.shape }

    /// Replaces the value; the shape and dtype must stay the same.
    public func assign(_ newValue: Tensor) {
        checkCompatible(newValue, "assign")
        changeState(inputs: [newValue]) { [self] in current = $0[0] }
    }

    /// Adds `delta` to the value in place.
    public func assignAdd(_ delta: Tensor) {
        checkCompatible(delta, "assignAdd")
        changeState(inputs: [delta]) { [self] in current.addInPlace($0[0]) }
    }

    /// Subtracts `delta` from the value in place.
    public func assignSub(_ delta: Tensor) {
        checkCompatible(delta, "assignSub")
        changeState(inputs: [delta]) { [self] in current.addInPlace($0[0], scale: -1) }
    }

    /// Changes the value in place without recording it (optimizers' fused updates).
    @_spi(Autodiff)
    public func updateInPlace<R>(_ body: (inout Tensor) throws -> R) rethrows -> R {
        try body(&current)
    }

    private func checkCompatible(_ t: Tensor, _ op: String) {
        precondition(t.shape == current.shape && t.dtype == current.dtype,
                     "Variable.\(op): '\(name)' has shape \(current.shape) and dtype \(current.dtype), but the value has shape \(t.shape) and dtype \(t.dtype)")
    }

    /// Elements or slices of the value, as with ``Tensor``'s subscript.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        value[indices: indices]
    }

    public var description: String {
        let values = current.numpyDescription
        let separator = values.contains("\n") ? "\n" : ""
        return "<DeepSwift.Variable '\(name):0' shape=\(shape) dtype=\(dtype), numpy=\(separator)\(values)>"
    }
}
