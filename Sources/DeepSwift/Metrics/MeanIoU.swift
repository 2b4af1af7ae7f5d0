@_spi(Autodiff) import TensorCore

/// The mean intersection over union of `numClasses` classes, as
/// `keras.metrics.MeanIoU`: from the confusion matrix accumulated over all batches,
/// `IoU = TP / (TP + FP + FN)` per class, averaged over the classes that occur in
/// the targets or predictions. Targets are class ids; predictions are class ids,
/// or scores whose argmax is taken with `sparsePredictions: false`.
///
/// ```swift
/// let iou = MeanIoU(numClasses: 3)
/// iou.updateState(Tensor([0, 1, 2] as [Int32]), Tensor([0, 2, 2] as [Int32]))
/// ```
public final class MeanIoU: Metric {
    public let name: String
    public let numClasses: Int
    public let sparsePredictions: Bool
    /// A class left out of the confusion matrix (Keras's `ignore_class`), if any.
    public let ignoreClass: Int?
    /// `confusion[t * numClasses + p]`: the weight of examples of class t predicted as p.
    private var confusion: [Double]

    public init(numClasses: Int, sparsePredictions: Bool = true, ignoreClass: Int? = nil, name: String = "mean_io_u") {
        precondition(numClasses >= 1, "MeanIoU: numClasses must be at least 1, got \(numClasses)")
        self.name = name
        self.numClasses = numClasses
        self.sparsePredictions = sparsePredictions
        self.ignoreClass = ignoreClass
        confusion = [Double](repeating: 0, count: numClasses * numClasses)
    }

    public func updateState(_ yTrue: Tensor, _ yPred: Tensor, sampleWeight: Tensor?) {
        changeState(inputs: [yTrue, yPred] + (sampleWeight.map { [$0] } ?? [])) { [self] in
            let truth = $0[0].cast(to: .int64).reshaped(to: [-1]).scalars(as: Int64.self)
            let predicted = (sparsePredictions ? $0[1] : $0[1].argmax(axis: -1)).cast(to: .int64).reshaped(to: [-1])
                .scalars(as: Int64.self)
            precondition(truth.count == predicted.count,
                         "MeanIoU '\(name)': \(truth.count) targets but \(predicted.count) predictions")
            let weights = $0.count > 2 ? $0[2].cast(to: .float64).reshaped(to: [-1]).scalars(as: Double.self)
                                       : [Double](repeating: 1, count: truth.count)
            for (i, (t, p)) in zip(truth, predicted).enumerated() {
                if let ignoreClass, t == ignoreClass { continue }
                precondition(t >= 0 && t < numClasses && p >= 0 && p < numClasses,
                             "MeanIoU '\(name)': class \(t) or \(p) is outside 0..<\(numClasses)")
                confusion[Int(t) * numClasses + Int(p)] += weights[i]
            }
        }
    }

    public func result() -> Tensor {
        let epsilon = 1e-7
        var total = 0.0, valid = 0
        for c in 0..<numClasses {
            let tp = confusion[c * numClasses + c]
            let row = (0..<numClasses).reduce(0.0) { $0 + confusion[c * numClasses + $1] }
            let column = (0..<numClasses).reduce(0.0) { $0 + confusion[$1 * numClasses + c] }
            let denominator = row + column - tp
            if denominator != 0 { valid += 1 }
            total += tp / (denominator + epsilon)
        }
        return Tensor(Float(total / (Double(valid) + epsilon)))
    }

    public func resetState() { confusion = [Double](repeating: 0, count: numClasses * numClasses) }
}
