import Foundation

/// Lion, as `keras.optimizers.Lion` (Chen et al. 2023): the update is the sign
/// of an interpolation between the momentum and the gradient, so every element
/// moves by exactly the learning rate; use a learning rate 3–10× smaller than Adam's.
///
/// ```swift
/// let optimizer = Lion(learningRate: 1e-4)
/// ```
public final class Lion: Optimizer {
    public let beta1: Double, beta2: Double

    public init(learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.99,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        precondition(beta1 > 0 && beta1 <= 1, "Lion: beta1 must be in (0, 1], got \(beta1)")
        self.beta1 = beta1
        self.beta2 = beta2
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] { [Tensor.zeros(v.shape, dtype: v.dtype)] }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        let m = state[0]
        variable.assignSub(sign(m * beta1 + g * (1 - beta1)) * lr)
        state[0] = m * beta2 + g * (1 - beta2)
    }
}

/// Nadam, as `keras.optimizers.Nadam`: Adam with Nesterov momentum and Keras's
/// momentum schedule `μ_t = β1·(1 - ½·0.96^t)`.
public final class Nadam: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Double
    /// The running product of the momentum schedule (Keras's `u_product`).
    public private(set) var momentumProduct = 1.0

    public init(learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] {
        [Tensor.zeros(v.shape, dtype: v.dtype), Tensor.zeros(v.shape, dtype: v.dtype)]
    }

    private func schedule(_ step: Double) -> Double { beta1 * (1 - 0.5 * pow(0.96, step)) }

    override public func willUpdate(learningRate: Double) {
        momentumProduct *= schedule(Double(iterations + 1))
    }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        let t = Double(iterations + 1)
        let (u, uNext) = (schedule(t), schedule(t + 1))
        let product = momentumProduct, productNext = momentumProduct * uNext
        state[0] = state[0] + (g - state[0]) * (1 - beta1)
        state[1] = state[1] + (square(g) - state[1]) * (1 - beta2)
        let mHat = state[0] * (uNext / (1 - productNext)) + g * ((1 - u) / (1 - product))
        let vHat = state[1] / (1 - pow(beta2, t))
        variable.assignSub(mHat * lr / (sqrt(vHat) + epsilon))
    }
}

/// Adafactor, as `keras.optimizers.Adafactor` (Shazeer & Stern 2018): the second
/// moment of a matrix is kept as its row and column means (factored), so the state
/// of an m×n kernel is m + n numbers instead of m·n; updates are clipped by their
/// RMS and scaled by the variable's RMS.
public final class Adafactor: Optimizer {
    public let beta2Decay: Double, epsilon1: Double, epsilon2: Double, clipThreshold: Double, relativeStep: Bool

    public init(learningRate: LearningRate = 0.001, beta2Decay: Double = -0.8, epsilon1: Double = 1e-30,
                epsilon2: Double = 1e-3, clipThreshold: Double = 1, relativeStep: Bool = true,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        self.beta2Decay = beta2Decay
        self.epsilon1 = epsilon1
        self.epsilon2 = epsilon2
        self.clipThreshold = clipThreshold
        self.relativeStep = relativeStep
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    /// Row means `r` (the shape without its last axis), column means `c` (without
    /// its second-to-last axis) and the full estimate `v`; `r` and `c` are scalars
    /// for a variable of rank below 2, which is not factored.
    override public func makeState(for v: Variable) -> [Tensor] {
        let dims = v.shape.dimensions
        guard dims.count >= 2 else {
            return [Tensor.zeros([], dtype: v.dtype), Tensor.zeros([], dtype: v.dtype), Tensor.zeros(v.shape, dtype: v.dtype)]
        }
        let r = TensorShape(Array(dims.dropLast()))
        let c = TensorShape(Array(dims.dropLast(2)) + [dims[dims.count - 1]])
        return [Tensor.zeros(r, dtype: v.dtype), Tensor.zeros(c, dtype: v.dtype), Tensor.zeros(v.shape, dtype: v.dtype)]
    }

    private func rms(_ x: Tensor) -> Tensor { sqrt(square(x).mean()) }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        let t = Double(iterations + 1)
        var rate = lr
        if relativeStep, !learningRate.isScheduled { rate = Swift.min(rate, 1 / t.squareRoot()) }
        let rho = Swift.min(rate, 1 / t.squareRoot())
        let alpha = maximum(rms(variable.value), epsilon2) * rho
        let g2 = square(g) + epsilon1
        let beta2 = 1 - pow(t, beta2Decay)
        if variable.shape.rank >= 2 {
            state[0] = state[0] * beta2 + g2.mean(axis: -1) * (1 - beta2)
            state[1] = state[1] * beta2 + g2.mean(axis: -2) * (1 - beta2)
            let rows = (state[0] / state[0].mean(axis: -1, keepDims: true)).expandingShape(at: -1)
            state[2] = rows * state[1].expandingShape(at: -2)
        } else {
            state[2] = state[2] * beta2 + g2 * (1 - beta2)
        }
        let u = g / sqrt(state[2])
        let uHat = u / maximum(rms(u) / clipThreshold, 1)
        variable.assignSub(uHat * alpha)
    }
}
