@_spi(Autodiff) import Autodiff
@_spi(Autodiff) import TensorCore
import CKernels
import Foundation

/// Stochastic gradient descent with optional (Nesterov) momentum, as
/// `keras.optimizers.SGD`: `m = momentum·m - lr·g`, `w += m`.
public final class SGD: Optimizer {
    public let momentum: Double
    public let nesterov: Bool

    public init(learningRate: LearningRate = 0.01, momentum: Double = 0, nesterov: Bool = false,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        precondition(momentum >= 0 && momentum <= 1, "SGD: momentum must be in [0, 1], got \(momentum)")
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] { momentum > 0 ? [Tensor.zeros(v.shape, dtype: v.dtype)] : [] }

    override func kernel(for dtype: DType, learningRate: Double, gradientScale: Double) -> UpdateKernel? {
        let (type, momentum, nesterov) = (dtype.kernelType, momentum, nesterov ? Int32(1) : 0)
        return { w, g, s, count in ck_sgd_update(type, w, g, s.first, count, learningRate, momentum, nesterov, gradientScale) }
    }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        guard momentum > 0 else { return variable.assignSub(g * lr) }
        let m = state[0] * momentum - g * lr
        state[0] = m
        variable.assignAdd(nesterov ? m * momentum - g * lr : m)
    }
}

/// Adam, as `keras.optimizers.Adam` (ε = 1e-7, bias correction folded into the
/// step size), with optional AMSGrad and decoupled weight decay.
public class Adam: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Double, amsgrad: Bool
    /// Decoupled weight decay: `w -= w·weightDecay·lr` before each update.
    public let weightDecay: Double

    public init(learningRate: LearningRate = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                amsgrad: Bool = false, weightDecay: Double = 0,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.weightDecay = weightDecay
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] {
        Array(repeating: Tensor.zeros(v.shape, dtype: v.dtype), count: amsgrad ? 3 : 2)
    }

    override func kernel(for dtype: DType, learningRate: Double, gradientScale: Double) -> UpdateKernel? {
        let t = Double(iterations + 1)
        let stepSize = learningRate * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
        let (type, beta1, beta2, epsilon, amsgrad, decay) = (dtype.kernelType, beta1, beta2, epsilon, amsgrad,
                                                               weightDecay * learningRate)
        return { w, g, s, count in
            ck_adam_update(type, w, g, s[0], s[1], amsgrad ? s[2] : nil, count, stepSize, beta1, beta2, epsilon, decay, gradientScale)
        }
    }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        let t = Double(iterations + 1)
        let alpha = lr * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
        if weightDecay != 0 { variable.assignSub(variable.value * (weightDecay * lr)) }
        state[0] = state[0] + (g - state[0]) * (1 - beta1)
        state[1] = state[1] + (square(g) - state[1]) * (1 - beta2)
        var v = state[1]
        if amsgrad {
            state[2] = maximum(state[2], state[1])
            v = state[2]
        }
        variable.assignSub(state[0] * alpha / (sqrt(v) + epsilon))
    }
}

/// Adam with decoupled weight decay (Keras's default 0.004), as `keras.optimizers.AdamW`.
public final class AdamW: Adam {
    public init(learningRate: LearningRate = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9,
                beta2: Double = 0.999, epsilon: Double = 1e-7, amsgrad: Bool = false,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
                   weightDecay: weightDecay, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }
}

/// RMSprop, as `keras.optimizers.RMSprop`: divides by a moving average of squared
/// gradients (centered: of their variance), with optional momentum.
public final class RMSprop: Optimizer {
    public let rho: Double, momentum: Double, epsilon: Double, centered: Bool

    public init(learningRate: LearningRate = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7,
                centered: Bool = false, clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] {
        Array(repeating: Tensor.zeros(v.shape, dtype: v.dtype), count: 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0))
    }

    override func kernel(for dtype: DType, learningRate: Double, gradientScale: Double) -> UpdateKernel? {
        let (type, rho, momentum, epsilon, centered) = (dtype.kernelType, rho, momentum, epsilon, centered)
        return { w, g, s, count in
            let avg = centered ? s[1] : nil
            let mom = momentum > 0 ? s[centered ? 2 : 1] : nil
            ck_rmsprop_update(type, w, g, s[0], avg, mom, count, learningRate, rho, momentum, epsilon, gradientScale)
        }
    }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        state[0] = state[0] * rho + square(g) * (1 - rho)
        var denominator = state[0] + epsilon
        if centered {
            state[1] = state[1] * rho + g * (1 - rho)
            denominator = state[0] - square(state[1]) + epsilon
        }
        let step = g * lr / sqrt(denominator)
        guard momentum > 0 else { return variable.assignSub(step) }
        let k = centered ? 2 : 1
        state[k] = state[k] * momentum + step
        variable.assignSub(state[k])
    }
}

/// Adagrad, as `keras.optimizers.Adagrad`: per-element rates from accumulated
/// squared gradients (starting at 0.1).
public final class Adagrad: Optimizer {
    public let initialAccumulatorValue: Double, epsilon: Double

    public init(learningRate: LearningRate = 0.001, initialAccumulatorValue: Double = 0.1, epsilon: Double = 1e-7,
                clipNorm: Double? = nil, clipValue: Double? = nil, globalClipNorm: Double? = nil) {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
    }

    override public func makeState(for v: Variable) -> [Tensor] { [Tensor.full(v.shape, value: initialAccumulatorValue, dtype: v.dtype)] }

    override func kernel(for dtype: DType, learningRate: Double, gradientScale: Double) -> UpdateKernel? {
        let (type, epsilon) = (dtype.kernelType, epsilon)
        return { w, g, s, count in ck_adagrad_update(type, w, g, s[0], count, learningRate, epsilon, gradientScale) }
    }

    /// This optimizer's formula in tensor ops (the path of custom subclasses and clipping).
    override public func updateStep(gradient g: Tensor, variable: Variable, state: inout [Tensor], learningRate lr: Double) {
        state[0] = state[0] + square(g)
        variable.assignSub(g * lr / sqrt(state[0] + epsilon))
    }
}
