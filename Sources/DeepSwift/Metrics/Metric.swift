@_spi(Autodiff) import TensorCore
/// A statistic accumulated over batches, as `keras.metrics.Metric`: update it
/// with targets and predictions, read its `result`, reset it between epochs.
public protocol Metric: AnyObject {
    /// The name used in training logs.
    var name: String { get }
    /// Accumulates a batch of targets and predictions (optionally weighted per example).
    func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?)
    /// The value so far, a float32 scalar.
    func result() -> Tensor
    /// Forgets everything accumulated.
    func resetState()
}

extension Metric {
    /// Accumulates a batch without weights.
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor) { updateState(yTrue, yPred, sampleWeight: nil) }
    /// The same as ``resetState()``, under the name the guide uses.
    public func resetStates() { resetState() }
}

/// A metric that is the (weighted) mean of a per-example value.
public class MeanMetricWrapper: Metric {
    public let name: String
    let mean: Mean
    let perExample: (Tensor, Tensor) -> Tensor

    init(name: String, _ perExample: @escaping (Tensor, Tensor) -> Tensor) {
        self.name = name
        self.mean = Mean(name: name)
        self.perExample = perExample
    }

    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) {
        mean.updateState(stopGradient(perExample(yTrue, yPred)), sampleWeight: sampleWeight)
    }

    public func result() -> Tensor { mean.result() }
    public func resetState() { mean.resetState() }
}

/// Labels as integers of shape (batch...), whatever their dtype or trailing 1-axis.
func integerLabels(_ labels: Tensor, rankOf predictions: Tensor) -> Tensor {
    var l = labels.dtype == .int64 ? labels : labels.cast(to: .int64)
    if l.rank == predictions.rank && l.rank > 0 && l.shape[l.rank - 1] == 1 { l = l.squeezingShape(at: -1) }
    return l
}

/// How often predictions equal targets, as `keras.metrics.Accuracy`.
public final class Accuracy: MeanMetricWrapper {
    public init(name: String = "accuracy") {
        super.init(name: name) { y, p in (y.cast(to: .float64) .== p.cast(to: .float64)).cast(to: .float32) }
    }
}

/// How often `prediction > threshold` equals the binary target, as `keras.metrics.BinaryAccuracy`.
public final class BinaryAccuracy: MeanMetricWrapper {
    public init(threshold: Double = 0.5, name: String = "binary_accuracy") {
        super.init(name: name) { y, p in
            let hit = ((p.cast(to: .float64) .> threshold).cast(to: .float64) .== y.cast(to: .float64)).cast(to: .float32)
            return hit.rank == 0 ? hit : hit.mean(axis: -1)
        }
    }
}

/// How often the predicted class (argmax) is the one-hot target's class, as
/// `keras.metrics.CategoricalAccuracy`.
public final class CategoricalAccuracy: MeanMetricWrapper {
    public init(name: String = "categorical_accuracy") {
        super.init(name: name) { y, p in (y.argmax(axis: -1) .== p.argmax(axis: -1)).cast(to: .float32) }
    }
}

/// How often the predicted class (argmax) is the integer label, as
/// `keras.metrics.SparseCategoricalAccuracy`.
///
/// ```swift
/// let accuracy = SparseCategoricalAccuracy()
/// accuracy.updateState(labels, logits)
/// print("accuracy:", accuracy.result())
/// ```
public final class SparseCategoricalAccuracy: MeanMetricWrapper {
    public init(name: String = "sparse_categorical_accuracy") {
        super.init(name: name) { y, p in (integerLabels(y, rankOf: p) .== p.argmax(axis: -1)).cast(to: .float32) }
    }
}

/// How often the target class is among the `k` highest predictions (ties count
/// as in), as `keras.metrics.TopKCategoricalAccuracy` (one-hot targets).
public final class TopKCategoricalAccuracy: MeanMetricWrapper {
    public init(k: Int = 5, name: String = "top_k_categorical_accuracy") {
        super.init(name: name) { y, p in
            let classes = y.argmax(axis: -1).reshaped(to: [-1])
            let rows = p.reshaped(to: [-1, p.shape[p.rank - 1]])
            let targetScore = (rows * oneHot(classes, depth: rows.shape[1], dtype: rows.dtype)).sum(axis: -1, keepDims: true)
            let better = (rows .> targetScore).cast(to: .int32).sum(axis: -1)
            return (better .< Tensor(Int32(k))).cast(to: .float32).reshaped(to: TensorShape(Array(p.shape.dimensions.dropLast())))
        }
    }
}

/// The mean of squared errors, as `keras.metrics.MeanSquaredError` (named apart
/// from the loss of the same Keras name).
public final class MeanSquaredErrorMetric: MeanMetricWrapper {
    public init(name: String = "mean_squared_error") {
        super.init(name: name) { y, p in MeanSquaredError(reduction: .none)(y, p) }
    }
}

/// The mean of absolute errors, as `keras.metrics.MeanAbsoluteError`.
public final class MeanAbsoluteErrorMetric: MeanMetricWrapper {
    public init(name: String = "mean_absolute_error") {
        super.init(name: name) { y, p in MeanAbsoluteError(reduction: .none)(y, p) }
    }
}

/// The square root of the mean squared error over everything seen, as
/// `keras.metrics.RootMeanSquaredError` (the root of the running mean, not a
/// mean of per-batch roots).
public final class RootMeanSquaredError: MeanMetricWrapper {
    public init(name: String = "root_mean_squared_error") {
        super.init(name: name) { y, p in MeanSquaredError(reduction: .none)(y, p) }
    }

    public override func result() -> Tensor { sqrt(super.result()) }
}

/// The running sum of the values it is given, as `keras.metrics.Sum`.
public final class Sum {
    public let name: String
    private var total = 0.0

    public init(name: String = "sum") { self.name = name }

    public func updateState(_ values: Tensor, sampleWeight: Tensor? = nil) {
        changeState(inputs: [values] + (sampleWeight.map { [$0] } ?? [])) { [self] in
            let v = $0[0].cast(to: .float64)
            total += ($0.count > 1 ? v * $0[1].cast(to: .float64) : v).sum().scalar(as: Double.self)
        }
    }

    public func result() -> Tensor { Tensor(Float(total)) }
    public func resetState() { total = 0 }
    public func resetStates() { resetState() }
}
