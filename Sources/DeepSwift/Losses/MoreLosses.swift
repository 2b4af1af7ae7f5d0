import Foundation

/// The last axis reduced by its mean (a scalar stays as it is).
private func meanOverLastAxis(_ t: Tensor) -> Tensor { t.rank == 0 ? t : t.mean(axis: -1) }

/// `x / ‖x‖` along `axis`, with Keras's 1e-12 floor under the squared norm.
func l2Normalized(_ x: Tensor, axis: Int) -> Tensor {
    x / sqrt(maximum(square(x).sum(axis: axis, keepDims: true), 1e-12))
}

/// The negative cosine similarity along `axis`, as `keras.losses.CosineSimilarity`
/// (-1 for the same direction, 1 for opposite ones).
public final class CosineSimilarity: Loss {
    public let axis: Int

    public init(axis: Int = -1, reduction: LossReduction = .sumOverBatchSize, name: String = "cosine_similarity") {
        self.axis = axis
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        -(l2Normalized(alignedTargets(yTrue, yPred), axis: axis) * l2Normalized(yPred, axis: axis)).sum(axis: axis)
    }
}

/// `log(cosh(ŷ - y))` averaged over the last axis, as `keras.losses.LogCosh`:
/// about `x²/2` for small errors and `|x| - log 2` for large ones, computed as
/// `x + softplus(-2x) - log 2` so it never overflows.
public final class LogCosh: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "log_cosh") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let x = yPred - alignedTargets(yTrue, yPred)
        return meanOverLastAxis(x + softplus(x * -2) - log(2.0))
    }
}

/// `ŷ - y·log(ŷ + ε)` averaged over the last axis, as `keras.losses.Poisson`.
public final class Poisson: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "poisson") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        meanOverLastAxis(yPred - alignedTargets(yTrue, yPred) * log(yPred + lossEpsilon))
    }
}

/// Targets of 0 and 1 become -1 and 1, as Keras's hinge losses convert binary labels.
private func hingeLabels(_ y: Tensor) -> Tensor {
    let binary = logicalOr(y .== 0, y .== 1).cast(to: .float32).min().scalar(as: Float.self) == 1
    return binary ? y * 2 - 1 : y
}

/// `max(1 - y·ŷ, 0)` averaged over the last axis, with targets -1/1 (0/1 converted),
/// as `keras.losses.Hinge`.
public final class Hinge: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "hinge") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        meanOverLastAxis(relu(1 - hingeLabels(alignedTargets(yTrue, yPred)) * yPred))
    }
}

/// `max(1 - y·ŷ, 0)²` averaged over the last axis, as `keras.losses.SquaredHinge`.
public final class SquaredHinge: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "squared_hinge") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        meanOverLastAxis(square(relu(1 - hingeLabels(alignedTargets(yTrue, yPred)) * yPred)))
    }
}

/// `max(neg - pos + 1, 0)` with `pos = Σ y·ŷ` and `neg = max((1 - y)·ŷ)` over the
/// classes (one-hot targets), as `keras.losses.CategoricalHinge`.
public final class CategoricalHinge: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "categorical_hinge") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let y = alignedTargets(yTrue, yPred)
        let positive = (y * yPred).sum(axis: -1)
        let negative = ((1 - y) * yPred).max(axis: -1)
        return relu(negative - positive + 1)
    }
}
