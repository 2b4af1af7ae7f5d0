@_spi(Autodiff) import TensorCore
/// The running (weighted) mean of the values it is given, as `keras.metrics.Mean`.
///
/// ```swift
/// let lossTracker = Mean(name: "loss")
/// lossTracker.updateState(loss)
/// print(lossTracker.result())
/// lossTracker.resetState()
/// ```
public final class Mean {
    /// The metric's name (used in logs).
    public let name: String
    private var total = 0.0
    private var count = 0.0

    public init(name: String = "mean") { self.name = name }

    /// Adds every element of `values` (weighted by `sampleWeight`, broadcast to
    /// the values' shape) to the mean. Inside a compiled function the update is
    /// made on every call.
    public func updateState(_ values: Tensor, sampleWeight: Tensor? = nil) {
        changeState(inputs: [values] + (sampleWeight.map { [$0] } ?? [])) { [self] in
            accumulate($0[0], sampleWeight: $0.count > 1 ? $0[1] : nil)
        }
    }

    private func accumulate(_ values: Tensor, sampleWeight: Tensor?) {
        let v = values.cast(to: .float64)
        if let w = sampleWeight?.cast(to: .float64) {
            let wb = w.broadcasted(to: v.shape)
            total += (v * wb).sum().scalar(as: Double.self)
            count += wb.sum().scalar(as: Double.self)
        } else {
            total += v.sum().scalar(as: Double.self)
            count += Double(v.count)
        }
    }

    /// The mean so far (0 before any update), as a float32 scalar tensor.
    public func result() -> Tensor { Tensor(Float(count == 0 ? 0 : total / count)) }

    /// Forgets every update.
    public func resetState() {
        total = 0
        count = 0
    }

    /// The same as ``resetState()``, under the name the guide uses.
    public func resetStates() { resetState() }
}
