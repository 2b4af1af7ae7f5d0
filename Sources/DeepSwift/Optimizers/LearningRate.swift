import Foundation

/// A learning rate as a function of the optimizer's step, as
/// `keras.optimizers.schedules.LearningRateSchedule`.
public protocol LearningRateSchedule {
    /// The learning rate at `step` (0 for the first update).
    func callAsFunction(_ step: Int) -> Double
}

/// An optimizer's learning rate: a number, or a schedule.
///
/// ```swift
/// SGD(learningRate: 1e-3)
/// Adam(learningRate: .schedule(ExponentialDecay(initialLearningRate: 1e-3, decaySteps: 1000, decayRate: 0.9)))
/// Adam(learningRate: .schedule { step in step < 100 ? 1e-3 : 1e-4 })
/// ```
public struct LearningRate: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    let value: (Int) -> Double
    /// Whether the rate follows a schedule (Adafactor's relative step applies only
    /// to a constant rate, as in Keras).
    public let isScheduled: Bool

    /// A constant learning rate.
    public init(_ value: Double) {
        self.value = { _ in value }
        isScheduled = false
    }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(Double(value)) }

    /// A constant learning rate.
    public static func constant(_ value: Double) -> LearningRate { LearningRate(value) }

    /// A learning rate following `schedule`.
    public static func schedule(_ schedule: some LearningRateSchedule) -> LearningRate {
        var rate = LearningRate(0)
        rate = LearningRate(function: { schedule($0) })
        return rate
    }

    /// A learning rate computed by `function` from the step.
    public static func schedule(_ function: @escaping (Int) -> Double) -> LearningRate { LearningRate(function: function) }

    private init(function: @escaping (Int) -> Double) {
        self.value = function
        isScheduled = true
    }

    /// The rate at `step`.
    public func callAsFunction(_ step: Int) -> Double { value(step) }
}

/// `initial · rate^(step / decaySteps)` (with `staircase`, the exponent is floored),
/// as `keras.optimizers.schedules.ExponentialDecay`.
public struct ExponentialDecay: LearningRateSchedule {
    public let initialLearningRate: Double, decaySteps: Int, decayRate: Double, staircase: Bool

    public init(initialLearningRate: Double, decaySteps: Int, decayRate: Double, staircase: Bool = false) {
        precondition(decaySteps > 0, "ExponentialDecay: decaySteps must be positive")
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
    }

    public func callAsFunction(_ step: Int) -> Double {
        var p = Double(step) / Double(decaySteps)
        if staircase { p = p.rounded(.down) }
        return initialLearningRate * pow(decayRate, p)
    }
}

/// Cosine decay from `initial` to `initial · alpha` over `decaySteps`, as
/// `keras.optimizers.schedules.CosineDecay` (without warm-up).
public struct CosineDecay: LearningRateSchedule {
    public let initialLearningRate: Double, decaySteps: Int, alpha: Double

    public init(initialLearningRate: Double, decaySteps: Int, alpha: Double = 0) {
        precondition(decaySteps > 0, "CosineDecay: decaySteps must be positive")
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
    }

    public func callAsFunction(_ step: Int) -> Double {
        let p = Double(min(step, decaySteps)) / Double(decaySteps)
        let cosine = 0.5 * (1 + cos(Double.pi * p))
        return initialLearningRate * ((1 - alpha) * cosine + alpha)
    }
}
