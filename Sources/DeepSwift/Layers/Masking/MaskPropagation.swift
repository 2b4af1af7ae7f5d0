import Foundation

/// The mask a layer attached to `tensor`, as Keras's `tensor._keras_mask`: a bool
/// tensor of the leading axes (for sequences, (batch, steps)), true at the
/// entries that hold data, or nil.
///
/// `Embedding(maskZero: true)` and ``Masking`` make masks; layers that keep the
/// steps (`Dense`, `Dropout`, activations, normalizations) pass them on;
/// recurrent layers carry their state over masked steps, attention ignores masked
/// keys, `GlobalAveragePooling1D` averages only the unmasked steps, and a loss
/// averages only over unmasked entries of the predictions.
///
/// ```swift
/// let ids = Tensor(shape: [1, 4], scalars: [Int32(3), 7, 0, 0])
/// let vectors = Embedding(inputDim: 10, outputDim: 2, maskZero: true)(ids)
/// propagatedMask(of: vectors)   // [[true, true, false, false]]
/// ```
public func propagatedMask(of tensor: Tensor) -> Tensor? { MaskTable.shared.mask(of: tensor) }

/// The masks attached to layer outputs, by tensor identity. Masks are needed only
/// from one layer call to the next ones, so the table keeps the newest 4,096 and
/// forgets older ones (a tensor's identity changes when its value does).
final class MaskTable: @unchecked Sendable {
    static let shared = MaskTable()
    private let lock = NSLock()
    private var masks: [UInt64: Tensor] = [:]
    private var order: [UInt64] = []
    private var oldest = 0
    /// Nonzero once a mask was ever set: until then, layer calls skip the table.
    private(set) var used = false
    static let capacity = 4096

    func mask(of tensor: Tensor) -> Tensor? {
        guard used else { return nil }
        return lock.withLock { masks[tensor.id] }
    }

    /// The masks of `tensors`, or nil when none has one.
    func masks(of tensors: [Tensor]) -> [Tensor?]? {
        guard used else { return nil }
        return lock.withLock {
            let found = tensors.map { masks[$0.id] }
            return found.contains { $0 != nil } ? found : nil
        }
    }

    func set(_ mask: Tensor, on tensor: Tensor) {
        lock.withLock {
            used = true
            if masks.updateValue(mask, forKey: tensor.id) != nil { return }
            if order.count < MaskTable.capacity {
                order.append(tensor.id)
            } else {
                masks[order[oldest]] = nil
                order[oldest] = tensor.id
                oldest = (oldest + 1) % MaskTable.capacity
            }
        }
    }
}

/// Passes its input through and masks the steps whose features all equal
/// `maskValue`, as `keras.layers.Masking`: those steps become zeros, and the
/// layers after it skip them.
///
/// ```swift
/// let x = Tensor([[[1, 2], [0, 0], [3, 0]]] as [[[Float]]])
/// let masked = Masking(maskValue: 0)(x)
/// propagatedMask(of: masked)   // [[true, false, true]]
/// ```
public final class Masking: Layer {
    /// The value that marks a step as padding.
    public let maskValue: Double

    /// - Parameters:
    ///   - maskValue: steps whose features all equal it are masked (default 0).
    ///   - name: the layer's name.
    public init(maskValue: Double = 0, name: String? = nil) {
        self.maskValue = maskValue
        super.init(name: name)
        markBuilt()
    }

    public override var createsMask: Bool { true }

    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard shapes[0].rank >= 2 else { return problemPrefix + "expects (batch, steps, ...) inputs, got \(shapes[0])" }
        return floatProblem(dtypes)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        inputs * stepMask(inputs).cast(to: inputs.dtype).expandingShape(at: inputs.rank - 1)
    }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] { [stepMask(inputs[0])] }

    private func stepMask(_ x: Tensor) -> Tensor {
        (x .!= Tensor(maskValue, dtype: x.dtype)).any(axes: [x.rank - 1])
    }
}
