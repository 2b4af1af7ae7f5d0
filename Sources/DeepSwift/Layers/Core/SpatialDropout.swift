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

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 3, "SpatialDropout1D '\(name)': expects (batch, steps, channels), got \(x.shape)")
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

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 4, "SpatialDropout2D '\(name)': expects (batch, height, width, channels), got \(x.shape)")
        return dropout(x, training: training)
    }
}
