@_spi(Autodiff) import TensorCore

/// A function with a gradient of your own, as `tf.custom_gradient`: `body` returns
/// the value and a closure from the value's upstream gradient to one gradient per
/// input (nil for an input that gets none). Tapes do not record the ops inside
/// `body`; they see one op whose gradient is your closure. The closure's own ops
/// are recorded by any outer tape, so second derivatives work when the closure is
/// written in differentiable ops, and the whole thing traces into compiled functions.
///
/// ```swift
/// // A straight-through estimator: round forward, identity backward.
/// let y = customGradient(x) { x in (round(x), { upstream in upstream }) }
/// ```
public func customGradient(_ inputs: [Tensor],
                           _ body: ([Tensor]) -> (value: Tensor, gradient: (Tensor) -> [Tensor?])) -> Tensor {
    let (value, gradient): (Tensor, (Tensor) -> [Tensor?])
    if let tapes = ThreadTapes.active {
        (value, gradient) = tapes.steppingAside { body(inputs) }
    } else {
        (value, gradient) = body(inputs)
    }
    let rule = CustomGradientRule { upstream in
        let grads = gradient(upstream)
        precondition(grads.count == inputs.count,
                     "customGradient: the gradient closure returned \(grads.count) gradients for \(inputs.count) inputs")
        return grads
    }
    return value.markedWithCustomGradient(rule, inputs: inputs)
}

/// ``customGradient(_:_:)`` of one input.
public func customGradient(_ x: Tensor, _ body: (Tensor) -> (value: Tensor, gradient: (Tensor) -> Tensor?)) -> Tensor {
    customGradient([x]) { inputs in
        let (value, gradient) = body(inputs[0])
        return (value, { [gradient($0)] })
    }
}
