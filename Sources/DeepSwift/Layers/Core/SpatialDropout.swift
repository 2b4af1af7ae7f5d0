/// Dropout of whole feature channels of (batch, steps, channels) inputs, as
/// `keras.layers.SpatialDropout1D`: each example keeps or drops each channel at
/// every step together (Keras's noise shape (batch, 1, channels)).
public final class SpatialDropout1D: Layer {
    let dropout: Dropout

    public init(_ rate: Double, seed: UInt64? = nil, name: String? = nil) {
        dropout = Dropout(rate, noiseShape: [nil, 1, nil], seed: seed)
        super.init(name: name)
    }

    public var rate: Double { dropout.rate }
    /// The seed of the layer's own random stream (nil: the global generator's).
    public var seed: UInt64? { dropout.seed }

    /// (batch, steps, channels).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? { rankProblem(shapes[0], spatial: 1) }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        return dropout(x, training: training)
    }
}

/// Dropout of whole feature maps of (batch, height, width, channels) inputs, as
/// `keras.layers.SpatialDropout2D` (channels last; noise shape (batch, 1, 1, channels)).
public final class SpatialDropout2D: Layer {
    let dropout: Dropout

    public init(_ rate: Double, seed: UInt64? = nil, name: String? = nil) {
        dropout = Dropout(rate, noiseShape: [nil, 1, 1, nil], seed: seed)
        super.init(name: name)
    }

    public var rate: Double { dropout.rate }
    /// The seed of the layer's own random stream (nil: the global generator's).
    public var seed: UInt64? { dropout.seed }

    /// (batch, height, width, channels).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? { rankProblem(shapes[0], spatial: 2) }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        return dropout(x, training: training)
    }
}
