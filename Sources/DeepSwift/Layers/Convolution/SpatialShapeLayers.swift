/// Repeats every row and column `size` times (nearest-neighbour upsampling), as
/// `keras.layers.UpSampling2D`.
///
/// ```swift
/// UpSampling2D(size: 2)(Tensor.ones([1, 7, 7, 16])).shape   // (1, 14, 14, 16)
/// ```
public final class UpSampling2D: Layer {
    /// The factors for height and width.
    public let size: [Int]

    /// - Parameters:
    ///   - size: the upsampling factors, one or two (default 2).
    ///   - name: the layer's name (default `up_sampling2d`, …).
    public init(size: SpatialSize = 2, name: String? = nil) {
        self.size = size.expanded(to: 2, "size", layer: "UpSampling2D")
        super.init(name: name)
        markBuilt()
    }

    /// Rank 4.
    public override var inputSpec: InputSpec? { InputSpec(rank: 4) }

    /// Rank 4.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? { rankProblem(shapes[0], spatial: 2) }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let (n, h, w, c) = (inputs.shape[0], inputs.shape[1], inputs.shape[2], inputs.shape[3])
        // (n, h, 1, w, 1, c) broadcast to (n, h, s0, w, s1, c): each pixel repeated.
        return inputs.reshaped(to: [n, h, 1, w, 1, c])
            .broadcasted(to: [n, h, size[0], w, size[1], c])
            .reshaped(to: [n, h * size[0], w * size[1], c])
    }
}

/// Adds rows and columns of zeros around images, as `keras.layers.ZeroPadding2D`.
///
/// ```swift
/// ZeroPadding2D(padding: 1)(Tensor.ones([1, 28, 28, 1])).shape                  // (1, 30, 30, 1)
/// ZeroPadding2D(padding: ((1, 2), (0, 3)))(Tensor.ones([1, 28, 28, 1])).shape   // (1, 31, 31, 1)
/// ```
public final class ZeroPadding2D: Layer {
    /// (top, bottom) and (left, right).
    public let padding: ((Int, Int), (Int, Int))

    /// The same padding on all four sides.
    public convenience init(padding: Int = 1, name: String? = nil) {
        self.init(padding: ((padding, padding), (padding, padding)), name: name)
    }

    /// Symmetric padding: `height` rows above and below, `width` columns left and right.
    public convenience init(padding: (height: Int, width: Int), name: String? = nil) {
        self.init(padding: ((padding.height, padding.height), (padding.width, padding.width)), name: name)
    }

    /// - Parameters:
    ///   - padding: ((top, bottom), (left, right)).
    ///   - name: the layer's name (default `zero_padding2d`, …).
    public init(padding: ((Int, Int), (Int, Int)), name: String? = nil) {
        precondition([padding.0.0, padding.0.1, padding.1.0, padding.1.1].allSatisfy { $0 >= 0 },
                     "ZeroPadding2D: padding must not be negative, got \(padding)")
        self.padding = padding
        super.init(name: name)
        markBuilt()
    }

    /// Rank 4.
    public override var inputSpec: InputSpec? { InputSpec(rank: 4) }

    /// Rank 4.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? { rankProblem(shapes[0], spatial: 2) }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        inputs.padded([(0, 0), padding.0, padding.1, (0, 0)])
    }
}

/// Removes rows and columns at the borders of images, as `keras.layers.Cropping2D`.
///
/// ```swift
/// Cropping2D(cropping: ((2, 2), (4, 4)))(Tensor.ones([1, 28, 28, 3])).shape   // (1, 24, 20, 3)
/// ```
public final class Cropping2D: Layer {
    /// (top, bottom) and (left, right).
    public let cropping: ((Int, Int), (Int, Int))

    /// The same cropping on all four sides.
    public convenience init(cropping: Int = 0, name: String? = nil) {
        self.init(cropping: ((cropping, cropping), (cropping, cropping)), name: name)
    }

    /// - Parameters:
    ///   - cropping: ((top, bottom), (left, right)).
    ///   - name: the layer's name (default `cropping2d`, …).
    public init(cropping: ((Int, Int), (Int, Int)), name: String? = nil) {
        precondition([cropping.0.0, cropping.0.1, cropping.1.0, cropping.1.1].allSatisfy { $0 >= 0 },
                     "Cropping2D: cropping must not be negative, got \(cropping)")
        self.cropping = cropping
        super.init(name: name)
        markBuilt()
    }

    /// Rank 4.
    public override var inputSpec: InputSpec? { InputSpec(rank: 4) }

    /// Rank 4, with something left after cropping.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        if let p = rankProblem(shapes[0], spatial: 2) { return p }
        let ((top, bottom), (left, right)) = cropping
        return top + bottom < shapes[0][1] && left + right < shapes[0][2] ? nil
            : problemPrefix + "cropping \(cropping) leaves nothing of an input of shape \(shapes[0])"
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let (h, w) = (inputs.shape[1], inputs.shape[2])
        let ((top, bottom), (left, right)) = cropping
        return inputs[.all, top..<(h - bottom), left..<(w - right), .all]
    }
}
