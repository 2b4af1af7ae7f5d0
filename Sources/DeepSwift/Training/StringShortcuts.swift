/// Keras's string identifiers for optimizers, losses and metrics
/// (`compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])`).
/// Each name gives the object with Keras's defaults; an unknown name throws
/// ``TrainingError/invalidConfiguration(_:)`` listing the known ones.

extension Optimizer {
    /// The optimizer Keras names `name` (any case), with Keras's default settings.
    ///
    /// ```swift
    /// let optimizer = try Optimizer.named("adam")   // Adam(learningRate: 0.001)
    /// ```
    public static func named(_ name: String) throws -> Optimizer {
        switch name.lowercased() {
        case "adam": return Adam()
        case "adamw": return AdamW()
        case "sgd": return SGD()
        case "rmsprop": return RMSprop()
        case "adagrad": return Adagrad()
        case "nadam": return Nadam()
        case "lion": return Lion()
        case "adafactor": return Adafactor()
        default:
            throw TrainingError.invalidConfiguration(
                "unknown optimizer '\(name)'; known: adam, adamw, adafactor, adagrad, lion, nadam, rmsprop, sgd")
        }
    }
}

extension Loss {
    /// The loss Keras names `name` (a class-style or function-style identifier).
    ///
    /// ```swift
    /// let loss = try Loss.named("mse")   // MeanSquaredError()
    /// ```
    public static func named(_ name: String) throws -> Loss {
        switch name.lowercased() {
        case "sparse_categorical_crossentropy", "sparsecategoricalcrossentropy": return SparseCategoricalCrossentropy()
        case "categorical_crossentropy", "categoricalcrossentropy": return CategoricalCrossentropy()
        case "binary_crossentropy", "binarycrossentropy": return BinaryCrossentropy()
        case "mse", "mean_squared_error", "meansquarederror": return MeanSquaredError()
        case "mae", "mean_absolute_error", "meanabsoluteerror": return MeanAbsoluteError()
        case "huber", "huber_loss": return Huber()
        case "kld", "kl_divergence", "kullback_leibler_divergence", "kldivergence": return KLDivergence()
        case "cosine_similarity", "cosinesimilarity": return CosineSimilarity()
        case "log_cosh", "logcosh": return LogCosh()
        case "poisson": return Poisson()
        case "hinge": return Hinge()
        case "squared_hinge", "squaredhinge": return SquaredHinge()
        case "categorical_hinge", "categoricalhinge": return CategoricalHinge()
        default:
            throw TrainingError.invalidConfiguration(
                "unknown loss '\(name)'; known: binary_crossentropy, categorical_crossentropy, categorical_hinge, cosine_similarity, hinge, huber, kl_divergence (kld), log_cosh, mean_absolute_error (mae), mean_squared_error (mse), poisson, sparse_categorical_crossentropy, squared_hinge")
        }
    }
}

/// The metric Keras names `name`. `"accuracy"` (or `"acc"`) follows the loss, as
/// Keras does: binary accuracy for binary crossentropy, sparse categorical for
/// sparse categorical crossentropy, categorical otherwise; its history key stays
/// `accuracy`.
public func metric(named name: String, forLoss loss: Loss?) throws -> any Metric {
    switch name.lowercased() {
    case "accuracy", "acc":
        let key = name.lowercased()
        switch loss {
        case is BinaryCrossentropy: return BinaryAccuracy(name: key)
        case is SparseCategoricalCrossentropy: return SparseCategoricalAccuracy(name: key)
        default: return CategoricalAccuracy(name: key)
        }
    case "binary_accuracy": return BinaryAccuracy()
    case "categorical_accuracy": return CategoricalAccuracy()
    case "sparse_categorical_accuracy": return SparseCategoricalAccuracy()
    case "top_k_categorical_accuracy": return TopKCategoricalAccuracy()
    case "mse", "mean_squared_error": return MeanSquaredErrorMetric(name: name.lowercased())
    case "mae", "mean_absolute_error": return MeanAbsoluteErrorMetric(name: name.lowercased())
    case "root_mean_squared_error": return RootMeanSquaredError()
    case "precision": return Precision()
    case "recall": return Recall()
    case "auc": return AUC()
    default:
        throw TrainingError.invalidConfiguration(
            "unknown metric '\(name)'; known: accuracy (acc), auc, binary_accuracy, categorical_accuracy, mean_absolute_error (mae), mean_squared_error (mse), precision, recall, root_mean_squared_error, sparse_categorical_accuracy, top_k_categorical_accuracy")
    }
}

extension Model {
    /// `compile` with Keras's string identifiers, as
    /// `model.compile(optimizer="adam", loss="...", metrics=["accuracy"])`.
    ///
    /// ```swift
    /// try model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
    /// ```
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for an unknown name, listing the known ones.
    public func compile(optimizer: String, loss: String? = nil, metrics: [String] = [], runEagerly: Bool = false) throws {
        try compile(optimizer: Optimizer.named(optimizer), loss: loss, metrics: metrics, runEagerly: runEagerly)
    }

    /// `compile` with an optimizer object and a loss and metrics by name.
    public func compile(optimizer: Optimizer, loss: String?, metrics: [String] = [], runEagerly: Bool = false) throws {
        let lossObject = try loss.map(Loss.named)
        let metricObjects = try metrics.map { try metric(named: $0, forLoss: lossObject) }
        compile(optimizer: optimizer, loss: lossObject, metrics: metricObjects, runEagerly: runEagerly)
    }
}
