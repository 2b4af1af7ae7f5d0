@_spi(Autodiff) import TensorCore
import Foundation

/// True/false positive/negative counts at a list of thresholds, accumulated over
/// batches: the state behind Precision, Recall and AUC. As in Keras, predictions
/// and thresholds are compared in float32: a float32 prediction equal to a
/// threshold is not above it.
final class ConfusionCounts {
    let thresholds: [Float]
    var tp: [Double], fp: [Double], tn: [Double], fn: [Double]

    init(thresholds: [Double]) {
        self.thresholds = thresholds.map { Float($0) }
        tp = Array(repeating: 0, count: thresholds.count)
        fp = tp; tn = tp; fn = tp
    }

    func update(_ yTrue: Tensor, _ yPred: Tensor, _ sampleWeight: Tensor?) {
        changeState(inputs: [yTrue, yPred] + (sampleWeight.map { [$0] } ?? [])) { [self] in
            accumulate($0[0], $0[1], $0.count > 2 ? $0[2] : nil)
        }
    }

    private func accumulate(_ yTrue: Tensor, _ yPred: Tensor, _ sampleWeight: Tensor?) {
        let labels = yTrue.cast(to: .float64).scalars(as: Double.self)
        let scores = yPred.cast(to: .float32).scalars(as: Float.self)
        precondition(labels.count == scores.count, "confusion metrics: targets \(yTrue.shape) and predictions \(yPred.shape) differ in size")
        let weights = sampleWeight.map { $0.cast(to: .float64).broadcasted(to: yPred.shape).scalars(as: Double.self) }
        for i in scores.indices {
            let w = weights?[i] ?? 1
            let positive = labels[i] > 0.5
            for (t, threshold) in thresholds.enumerated() {
                let predicted = scores[i] > threshold
                switch (predicted, positive) {
                case (true, true): tp[t] += w
                case (true, false): fp[t] += w
                case (false, false): tn[t] += w
                case (false, true): fn[t] += w
                }
            }
        }
    }

    func reset() {
        for i in thresholds.indices { tp[i] = 0; fp[i] = 0; tn[i] = 0; fn[i] = 0 }
    }

    static func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }

    func precision(_ i: Int) -> Double { ConfusionCounts.ratio(tp[i], tp[i] + fp[i]) }
    func recall(_ i: Int) -> Double { ConfusionCounts.ratio(tp[i], tp[i] + fn[i]) }
    func specificity(_ i: Int) -> Double { ConfusionCounts.ratio(tn[i], tn[i] + fp[i]) }

    /// The largest `value` over thresholds where `constraint` is at least `minimum` (0 if none).
    func best(_ value: (Int) -> Double, where constraint: (Int) -> Double, atLeast minimum: Double) -> Tensor {
        Tensor(Float(thresholds.indices.filter { constraint($0) >= minimum }.map(value).max() ?? 0))
    }
}

/// Keras's `AUC` thresholds for `numThresholds`: evenly spaced in (0, 1), with
/// the end points nudged by ε so that 0 and 1 predictions fall inside.
func defaultThresholds(_ count: Int) -> [Double] {
    let inner = (1..<(count - 1)).map { Double($0) / Double(count - 1) }
    return [-1e-7] + inner + [1 + 1e-7]
}

/// The thresholds of Keras's sensitivity/specificity metrics (`PrecisionAtRecall`
/// and its relatives): evenly spaced, with the end points exactly 0 and 1 (a
/// prediction of 0 is below every threshold); `[0.5]` for one threshold.
func constraintThresholds(_ count: Int) -> [Double] {
    precondition(count > 0, "numThresholds must be at least 1, got \(count)")
    if count == 1 { return [0.5] }
    let inner: [Double] = (0..<(count - 2)).map { (i: Int) -> Double in Double(i + 1) / Double(count - 1) }
    return [0.0] + inner + [1.0]
}

/// The fraction of predicted positives (score > threshold) that are positive, as
/// `keras.metrics.Precision`.
public final class Precision: Metric {
    public let name: String
    let counts: ConfusionCounts

    public init(threshold: Double = 0.5, name: String = "precision") {
        self.name = name
        counts = ConfusionCounts(thresholds: [threshold])
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { Tensor(Float(counts.precision(0))) }
    public func resetState() { counts.reset() }
}

/// The fraction of positives predicted positive, as `keras.metrics.Recall`.
public final class Recall: Metric {
    public let name: String
    let counts: ConfusionCounts

    public init(threshold: Double = 0.5, name: String = "recall") {
        self.name = name
        counts = ConfusionCounts(thresholds: [threshold])
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { Tensor(Float(counts.recall(0))) }
    public func resetState() { counts.reset() }
}

/// The best precision among thresholds whose recall is at least `recall`, as
/// `keras.metrics.PrecisionAtRecall`.
public final class PrecisionAtRecall: Metric {
    public let name: String
    public let recall: Double
    let counts: ConfusionCounts

    public init(recall: Double, numThresholds: Int = 200, name: String = "precision_at_recall") {
        self.name = name
        self.recall = recall
        counts = ConfusionCounts(thresholds: constraintThresholds(numThresholds))
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { counts.best(counts.precision, where: counts.recall, atLeast: recall) }
    public func resetState() { counts.reset() }
}

/// The best recall among thresholds whose precision is at least `precision`, as
/// `keras.metrics.RecallAtPrecision`.
public final class RecallAtPrecision: Metric {
    public let name: String
    public let precision: Double
    let counts: ConfusionCounts

    public init(precision: Double, numThresholds: Int = 200, name: String = "recall_at_precision") {
        self.name = name
        self.precision = precision
        counts = ConfusionCounts(thresholds: constraintThresholds(numThresholds))
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { counts.best(counts.recall, where: counts.precision, atLeast: precision) }
    public func resetState() { counts.reset() }
}

/// The best sensitivity (recall) among thresholds whose specificity
/// (TN / (TN + FP)) is at least `specificity`, as `keras.metrics.SensitivityAtSpecificity`.
///
/// ```swift
/// let metric = SensitivityAtSpecificity(specificity: 0.5)
/// metric.updateState(Tensor([0, 0, 1, 1]), Tensor([0.1, 0.6, 0.4, 0.9]))
/// metric.result()   // 1.0
/// ```
public final class SensitivityAtSpecificity: Metric {
    public let name: String
    /// The least specificity a threshold must reach.
    public let specificity: Double
    let counts: ConfusionCounts

    /// - Parameters:
    ///   - specificity: the constraint, in [0, 1].
    ///   - numThresholds: how many thresholds are tried (Keras's 200).
    ///   - name: the metric's name in the logs.
    public init(specificity: Double, numThresholds: Int = 200, name: String = "sensitivity_at_specificity") {
        precondition((0...1).contains(specificity), "SensitivityAtSpecificity: specificity must be in [0, 1], got \(specificity)")
        self.name = name
        self.specificity = specificity
        counts = ConfusionCounts(thresholds: constraintThresholds(numThresholds))
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { counts.best(counts.recall, where: counts.specificity, atLeast: specificity) }
    public func resetState() { counts.reset() }
}

/// The best specificity among thresholds whose sensitivity (recall) is at least
/// `sensitivity`, as `keras.metrics.SpecificityAtSensitivity`.
///
/// ```swift
/// let metric = SpecificityAtSensitivity(sensitivity: 0.5)
/// metric.updateState(Tensor([0, 0, 1, 1]), Tensor([0.1, 0.6, 0.4, 0.9]))
/// metric.result()   // 1.0
/// ```
public final class SpecificityAtSensitivity: Metric {
    public let name: String
    /// The least sensitivity a threshold must reach.
    public let sensitivity: Double
    let counts: ConfusionCounts

    /// - Parameters:
    ///   - sensitivity: the constraint, in [0, 1].
    ///   - numThresholds: how many thresholds are tried (Keras's 200).
    ///   - name: the metric's name in the logs.
    public init(sensitivity: Double, numThresholds: Int = 200, name: String = "specificity_at_sensitivity") {
        precondition((0...1).contains(sensitivity), "SpecificityAtSensitivity: sensitivity must be in [0, 1], got \(sensitivity)")
        self.name = name
        self.sensitivity = sensitivity
        counts = ConfusionCounts(thresholds: constraintThresholds(numThresholds))
    }
    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }
    public func result() -> Tensor { counts.best(counts.specificity, where: counts.recall, atLeast: sensitivity) }
    public func resetState() { counts.reset() }
}

/// The area under the ROC or precision–recall curve over `numThresholds`
/// thresholds (200, as Keras), as `keras.metrics.AUC` with its default
/// interpolating Riemann sum.
public final class AUC: Metric {
    public enum Curve: Sendable { case roc, pr }
    public let name: String
    public let curve: Curve
    let counts: ConfusionCounts

    public init(numThresholds: Int = 200, curve: Curve = .roc, name: String = "auc") {
        precondition(numThresholds > 1, "AUC: numThresholds must be above 1")
        self.name = name
        self.curve = curve
        counts = ConfusionCounts(thresholds: defaultThresholds(numThresholds))
    }

    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) { counts.update(yTrue, yPred, sampleWeight) }

    public func result() -> Tensor {
        let c = counts
        let n = c.thresholds.count
        var area = 0.0
        switch curve {
        case .roc:
            // Trapezoids between consecutive thresholds of (FPR, TPR).
            let tpr = (0..<n).map { ConfusionCounts.ratio(c.tp[$0], c.tp[$0] + c.fn[$0]) }
            let fpr = (0..<n).map { ConfusionCounts.ratio(c.fp[$0], c.fp[$0] + c.tn[$0]) }
            for i in 0..<(n - 1) { area += (fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2 }
        case .pr:
            // Davis & Goadrich interpolation between thresholds, as Keras computes it.
            for i in 0..<(n - 1) {
                let dtp = c.tp[i] - c.tp[i + 1]
                let p = c.tp[i] + c.fp[i], dp = p - (c.tp[i + 1] + c.fp[i + 1])
                let precisionSlope = ConfusionCounts.ratio(dtp, Swift.max(dp, 0))
                let intercept = c.tp[i + 1] - precisionSlope * (c.tp[i + 1] + c.fp[i + 1])
                let pNext = c.tp[i + 1] + c.fp[i + 1]
                let safeRatio = (p > 0 && pNext > 0) ? p / pNext : 1
                let denominator = c.tp[i + 1] + c.fn[i + 1]
                guard denominator > 0 else { continue }
                let logRatio: Double = Foundation.log(Swift.max(safeRatio, 1e-300))
                let increment: Double = precisionSlope * (dtp + intercept * logRatio)
                area += increment / denominator
            }
        }
        return Tensor(Float(area))
    }

    public func resetState() { counts.reset() }
}
