@_spi(Autodiff) import TensorCore

/// The F-beta score of multi-label or one-hot predictions, as
/// `keras.metrics.FBetaScore`: the weighted harmonic mean of precision and recall,
/// `(1 + β²) · P · R / (β² · P + R)`, from true and false positives and false
/// negatives accumulated per class over all batches.
///
/// Targets and predictions are (batch, classes). With no `threshold`, the largest
/// score of each row counts as the predicted class (a row of zeros predicts
/// nothing); with one, every score above it does.
///
/// ```swift
/// let f1 = F1Score(average: .macro)
/// f1.updateState(Tensor([[0, 1], [1, 0]] as [[Float]]), Tensor([[0.2, 0.8], [0.3, 0.7]] as [[Float]]))
/// f1.result()   // 0.33333334: class 0 scores 0, class 1 two thirds
/// ```
public class FBetaScore: Metric {
    /// How the per-class scores become the result, as Keras's `average`.
    public enum Average: String, Sendable {
        /// One score from the counts summed over the classes.
        case micro
        /// The unweighted mean of the per-class scores.
        case macro
        /// The per-class scores weighted by each class's (weighted) count of true labels.
        case weighted
    }

    /// The name used in training logs.
    public let name: String
    /// nil gives one score per class, as Keras's default.
    public let average: Average?
    /// The weight of recall against precision.
    public let beta: Double
    /// Scores above it are positive predictions; nil takes each row's largest score.
    public let threshold: Double?
    private var truePositives: [Double] = [], falsePositives: [Double] = [], falseNegatives: [Double] = []
    private var support: [Double] = []

    /// - Parameters:
    ///   - average: nil (a score per class), `.micro`, `.macro` or `.weighted`.
    ///   - beta: the weight of recall against precision (positive).
    ///   - threshold: scores above it are positive predictions; nil takes each
    ///     row's largest score.
    ///   - name: the metric's name in the logs.
    public init(average: Average? = nil, beta: Double = 1, threshold: Double? = nil, name: String = "fbeta_score") {
        precondition(beta > 0, "\(name): beta must be positive, got \(beta)")
        precondition(threshold.map { $0 > 0 && $0 <= 1 } ?? true,
                     "\(name): threshold must be in (0, 1], got \(threshold!)")
        self.name = name
        self.average = average
        self.beta = beta
        self.threshold = threshold
    }

    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) {
        precondition(yTrue.rank == 2 && yPred.shape == yTrue.shape,
                     "\(name): expected targets and predictions of the same shape (batch, classes), got \(yTrue.shape) and \(yPred.shape)")
        if let sampleWeight {
            precondition(sampleWeight.count == yTrue.shape[0],
                         "\(name): expected one sample weight per example (\(yTrue.shape[0])), got shape \(sampleWeight.shape)")
        }
        changeState(inputs: [yTrue, yPred] + (sampleWeight.map { [$0] } ?? [])) { [self] in
            let (rows, classes) = ($0[0].shape[0], $0[0].shape[1])
            let truth = $0[0].cast(to: .float64).scalars(as: Double.self)
            let scores = $0[1].cast(to: .float64).scalars(as: Double.self)
            let weights = $0.count > 2 ? $0[2].cast(to: .float64).reshaped(to: [-1]).scalars(as: Double.self)
                                       : [Double](repeating: 1, count: rows)
            let cells = average == .micro ? 1 : classes
            if truePositives.count != cells {
                precondition(truePositives.isEmpty,
                             "\(name): predictions of \(classes) classes after \(truePositives.count) classes")
                (truePositives, falsePositives, falseNegatives, support) = ([], [], [], [])
                for _ in 0..<cells { truePositives.append(0); falsePositives.append(0); falseNegatives.append(0); support.append(0) }
            }
            for r in 0..<rows {
                let row = scores[(r * classes)..<((r + 1) * classes)]
                let largest = row.max() ?? 0
                for c in 0..<classes {
                    let s = row[r * classes + c]
                    let predicted: Double = if let threshold { s > threshold ? 1 : 0 } else { s >= largest && abs(s) > 1e-9 ? 1 : 0 }
                    let t = truth[r * classes + c], w = weights[r], cell = cells == 1 ? 0 : c
                    truePositives[cell] += w * predicted * t
                    falsePositives[cell] += w * predicted * (1 - t)
                    falseNegatives[cell] += w * (1 - predicted) * t
                    support[cell] += w * t
                }
            }
        }
    }

    /// The score per class (a vector) when `average` is nil, else a scalar.
    public func result() -> Tensor {
        let epsilon = 1e-7, b2 = beta * beta
        guard !truePositives.isEmpty else { return average == nil ? Tensor.zeros([0]) : Tensor(Float(0)) }
        let scores = truePositives.indices.map { c -> Double in
            let precision = truePositives[c] / (truePositives[c] + falsePositives[c] + epsilon)
            let recall = truePositives[c] / (truePositives[c] + falseNegatives[c] + epsilon)
            return (1 + b2) * precision * recall / (b2 * precision + recall + epsilon)
        }
        switch average {
        case nil: return Tensor(shape: [scores.count], scalars: scores.map(Float.init))
        case .micro, .macro: return Tensor(Float(scores.reduce(0, +) / Double(scores.count)))
        case .weighted:
            let total = support.reduce(0, +) + epsilon
            return Tensor(Float(zip(scores, support).reduce(0) { $0 + $1.0 * $1.1 / total }))
        }
    }

    public func resetState() { (truePositives, falsePositives, falseNegatives, support) = ([], [], [], []) }
}

/// The F1 score (the harmonic mean of precision and recall), as
/// `keras.metrics.F1Score`: an ``FBetaScore`` with β = 1.
///
/// ```swift
/// model.compile(optimizer: Adam(), loss: CategoricalCrossentropy(), metrics: [F1Score(average: .macro)])
/// ```
public final class F1Score: FBetaScore {
    public init(average: Average? = nil, threshold: Double? = nil, name: String = "f1_score") {
        super.init(average: average, beta: 1, threshold: threshold, name: name)
    }
}
