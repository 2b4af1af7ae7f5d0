@_spi(Autodiff) import TensorCore

/// The planner's extension point for state changes: a change that can take an
/// input as the inputs of the op that produced it, so that op never runs. The
/// optimizers use it to take a weight gradient `aᵀ·b` of two row vectors as its
/// factors `a` and `b` and update tile by tile, never writing the full gradient
/// (the hypernetwork's 16×50,890 kernel).
///
/// The planner asks ``takes(inputAt:producedBy:inputShapes:)`` once per trace, for
/// each input that nothing else uses and that a differentiable op produced.
@_spi(Autodiff)
public protocol ProducerFusingStateChange: StateChange {
    /// Whether input `index` may arrive as the inputs of `op`, which produced it from
    /// inputs of `inputShapes`.
    func takes(inputAt index: Int, producedBy op: DifferentiableOp, inputShapes: [TensorShape]) -> Bool

    /// Makes the change, with each input as a tensor or as its producer's inputs.
    func apply(_ inputs: [StateChangeInput])
}

/// An input of a ``ProducerFusingStateChange``.
@_spi(Autodiff)
public enum StateChangeInput {
    /// The input itself.
    case tensor(Tensor)
    /// The inputs of the op that would have produced it (that op did not run).
    case producerInputs([Tensor])
}

@_spi(Autodiff)
extension ProducerFusingStateChange {
    /// Eager calls (and replays that fused nothing) pass every input as itself.
    public func apply(_ inputs: [Tensor]) { apply(inputs.map(StateChangeInput.tensor)) }
}
