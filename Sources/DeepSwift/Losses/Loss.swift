import Foundation
@_spi(Autodiff) import TensorCore

/// How a loss combines per-example values, as Keras's `reduction`.
public enum LossReduction: Sendable {
    /// The sum of the weighted values divided by their number (Keras's default).
    case sumOverBatchSize
    /// The sum of the weighted values.
    case sum
    /// The weighted values themselves.
    case none
}

/// The base of the losses, as `keras.losses.Loss`: a per-example value, weighted
/// and reduced.
///
/// ```swift
/// let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
/// let loss = lossFn(labels, logits)   // a scalar: the mean over the batch
/// ```
open class Loss {
    /// The name used in training logs (`loss` for the compiled loss).
    public let name: String
    public let reduction: LossReduction

    public init(name: String, reduction: LossReduction = .sumOverBatchSize) {
        self.name = name
        self.reduction = reduction
    }

    /// Where warnings about suspicious inputs go (standard error by default);
    /// replace it to route them to a logger.
    nonisolated(unsafe) public static var warningHandler: (String) -> Void = { message in
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
    private var warnedShapes: Set<[Int]> = []

    /// The targets shaped as the predictions for an elementwise loss, as Keras's
    /// `squeeze_or_expand_dimensions`: (32,) targets against (32, 1) predictions
    /// gain the axis, (32, 1) against (32,) lose it. Shapes that still differ are
    /// broadcast, as Keras does, with a warning (once per loss and pair of shapes,
    /// as PyTorch warns), since (32, 1) against (32, 10) is rarely meant.
    public func alignedTargets(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        var y = yTrue.cast(to: yPred.dtype)
        if y.rank == yPred.rank - 1, yPred.rank > 0, yPred.shape[yPred.rank - 1] == 1 {
            y = y.expandingShape(at: -1)
        } else if y.rank == yPred.rank + 1, y.rank > 0, y.shape[y.rank - 1] == 1 {
            y = y.squeezingShape(at: -1)
        }
        if y.shape != yPred.shape, let both = Loss.broadcast(y.shape, yPred.shape),
           warnedShapes.insert(y.shape.dimensions + [-1] + yPred.shape.dimensions).inserted {
            Loss.warningHandler("\(type(of: self)): targets of shape \(yTrue.shape) and predictions of shape \(yPred.shape) differ; they are broadcast to \(both), which is likely not intended. Give them the same shape.")
        }
        return y
    }

    /// The shape two shapes broadcast to, or nil when they cannot.
    static func broadcast(_ a: TensorShape, _ b: TensorShape) -> TensorShape? {
        let rank = Swift.max(a.rank, b.rank)
        var dims: [Int] = []
        for i in 0..<rank {
            let x = i < rank - a.rank ? 1 : a[i - (rank - a.rank)], y = i < rank - b.rank ? 1 : b[i - (rank - b.rank)]
            guard x == y || x == 1 || y == 1 else { return nil }
            dims.append(x == 1 ? y : x)
        }
        return TensorShape(dims)
    }

    /// The loss of each example (the last axis reduced), before weighting.
    open func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        fatalError("\(type(of: self)) must override perExample(_:_:)")
    }

    /// The weighted, reduced loss of predictions `yPred` against targets `yTrue`.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor? = nil) -> Tensor {
        precondition(yPred.dtype.isFloatingPoint, "\(type(of: self)): predictions must be float, got \(yPred.dtype)")
        var values = perExample(yTrue, yPred)
        if let sampleWeight {
            let w = sampleWeight.cast(to: values.dtype)
            values = values * (w.rank > values.rank ? w.reshaped(to: values.shape) : w)
        }
        // Predictions with a mask (a sequence model's padding): as Keras, masked
        // entries count for nothing, and the mean is over the unmasked ones.
        if let mask = propagatedMask(of: yPred), mask.shape == values.shape {
            var weight = mask.cast(to: values.dtype)
            if reduction == .sumOverBatchSize { weight = weight * (Double(values.count) / maximum(weight.sum(), 1)) }
            values = values * weight
        }
        switch reduction {
        case .none: return values
        case .sum: return values.sum()
        case .sumOverBatchSize: return values.count == 0 ? values.sum() : values.sum() / Double(values.count)
        }
    }
}

/// Probabilities are clipped to [ε, 1 - ε] before logarithms, with Keras's ε.
let lossEpsilon = 1e-7

/// Cross-entropy between integer labels and predicted class scores, as
/// `keras.losses.SparseCategoricalCrossentropy`.
public final class SparseCategoricalCrossentropy: Loss {
    public let fromLogits: Bool

    public init(fromLogits: Bool = false, reduction: LossReduction = .sumOverBatchSize,
                name: String = "sparse_categorical_crossentropy") {
        self.fromLogits = fromLogits
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        var labels = yTrue.dtype.isInteger ? yTrue : yTrue.cast(to: .int64)
        if labels.rank == yPred.rank && labels.rank > 0 && labels.shape[labels.rank - 1] == 1 { labels = labels.squeezingShape(at: -1) }
        precondition(Array(labels.shape.dimensions) == Array(yPred.shape.dimensions.dropLast()),
                     "SparseCategoricalCrossentropy: labels of shape \(yTrue.shape) do not match predictions of shape \(yPred.shape)")
        // From probabilities, Keras takes the log of the clipped values as logits.
        let logits = fromLogits ? yPred : log(yPred.clipped(min: lossEpsilon, max: 1 - lossEpsilon))
        return sparseSoftmaxCrossEntropy(logits: logits, labels: labels)
    }
}

/// Cross-entropy between one-hot (or soft) targets and predicted class scores,
/// as `keras.losses.CategoricalCrossentropy`.
public final class CategoricalCrossentropy: Loss {
    public let fromLogits: Bool
    public let labelSmoothing: Double

    public init(fromLogits: Bool = false, labelSmoothing: Double = 0, reduction: LossReduction = .sumOverBatchSize,
                name: String = "categorical_crossentropy") {
        self.fromLogits = fromLogits
        self.labelSmoothing = labelSmoothing
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        precondition(yTrue.shape == yPred.shape, "CategoricalCrossentropy: targets \(yTrue.shape) and predictions \(yPred.shape) differ")
        var y = yTrue.cast(to: yPred.dtype)
        if labelSmoothing > 0 {
            y = y * (1 - labelSmoothing) + labelSmoothing / Double(yPred.shape[yPred.rank - 1])
        }
        if fromLogits { return -(y * logSoftmax(yPred)).sum(axis: -1) }
        let p = (yPred / yPred.sum(axis: -1, keepDims: true)).clipped(min: lossEpsilon, max: 1 - lossEpsilon)
        return -(y * log(p)).sum(axis: -1)
    }
}

/// Cross-entropy of independent binary targets, averaged over the last axis, as
/// `keras.losses.BinaryCrossentropy`.
public final class BinaryCrossentropy: Loss {
    public let fromLogits: Bool
    public let labelSmoothing: Double

    public init(fromLogits: Bool = false, labelSmoothing: Double = 0, reduction: LossReduction = .sumOverBatchSize,
                name: String = "binary_crossentropy") {
        self.fromLogits = fromLogits
        self.labelSmoothing = labelSmoothing
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        var y = alignedTargets(yTrue, yPred)
        if labelSmoothing > 0 { y = y * (1 - labelSmoothing) + 0.5 * labelSmoothing }
        let elementwise: Tensor
        if fromLogits {
            // max(x, 0) - x·y + log(1 + e^-|x|): exact for large |x|.
            elementwise = relu(yPred) - yPred * y + softplus(-abs(yPred))
        } else {
            // Keras 2's formula: clip to [ε, 1 - ε], then add ε again inside each log.
            let p = yPred.clipped(min: lossEpsilon, max: 1 - lossEpsilon)
            elementwise = -(y * log(p + lossEpsilon) + (1 - y) * log(1 - p + lossEpsilon))
        }
        return elementwise.rank == 0 ? elementwise : elementwise.mean(axis: -1)
    }
}

/// The mean of squared differences over the last axis, as `keras.losses.MeanSquaredError`.
public final class MeanSquaredError: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "mean_squared_error") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let d = square(yPred - alignedTargets(yTrue, yPred))
        return d.rank == 0 ? d : d.mean(axis: -1)
    }
}

/// The mean of absolute differences over the last axis, as `keras.losses.MeanAbsoluteError`.
public final class MeanAbsoluteError: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "mean_absolute_error") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let d = abs(yPred - alignedTargets(yTrue, yPred))
        return d.rank == 0 ? d : d.mean(axis: -1)
    }
}

/// Quadratic for errors up to `delta`, linear beyond, as `keras.losses.Huber`.
public final class Huber: Loss {
    public let delta: Double

    public init(delta: Double = 1, reduction: LossReduction = .sumOverBatchSize, name: String = "huber_loss") {
        self.delta = delta
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let e = abs(yPred - alignedTargets(yTrue, yPred))
        let v = `where`(e .<= delta, square(e) * 0.5, (e - 0.5 * delta) * delta)
        return v.rank == 0 ? v : v.mean(axis: -1)
    }
}

/// `Σ y·log(y / ŷ)` over the last axis (both clipped to [ε, 1]), as `keras.losses.KLDivergence`.
public final class KLDivergence: Loss {
    public init(reduction: LossReduction = .sumOverBatchSize, name: String = "kl_divergence") {
        super.init(name: name, reduction: reduction)
    }

    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        let y = alignedTargets(yTrue, yPred).clipped(min: lossEpsilon, max: 1)
        let p = yPred.clipped(min: lossEpsilon, max: 1)
        return (y * log(y / p)).sum(axis: -1)
    }
}
