import CKernels
/// Random tensors, as `tf.random`. Without `using:`, numbers come from the global
/// generator that ``setRandomSeed(_:)`` seeds.
///
/// ```swift
/// let x = Random.normal([2, 2], mean: 0, stddev: 1)
/// let y = Random.uniform([2, 2], min: 0, max: 10, dtype: .int32)
/// ```
public enum Random {
    /// Normally distributed values.
    public static func normal(_ shape: TensorShape, mean: Double = 0, stddev: Double = 1,
                              dtype: DType = .float32) -> Tensor {
        withGlobalGenerator { normal(shape, mean: mean, stddev: stddev, dtype: dtype, using: &$0) }
            .traced("randomNormal", [], stateful: true, replay: { _ in normal(shape, mean: mean, stddev: stddev, dtype: dtype) })
    }

    /// Normally distributed values from `generator`.
    public static func normal(_ shape: TensorShape, mean: Double = 0, stddev: Double = 1,
                              dtype: DType = .float32, using generator: inout RandomGenerator) -> Tensor {
        requireFloat(dtype, "Random.normal")
        let n = shape.elementCount
        // The uniforms in the order normalPair draws them; the transcendental part
        // runs vectorized in C.
        let pairs = (n + 1) / 2
        var u1 = [Double](repeating: 0, count: pairs), u2 = [Double](repeating: 0, count: pairs)
        for i in 0..<pairs {
            u1[i] = 1 - generator.nextUnit()
            u2[i] = generator.nextUnit()
        }
        var values = [Double](repeating: 0, count: 2 * pairs)
        ck_box_muller(u1, u2, &values, pairs, mean, stddev)
        values.removeLast(2 * pairs - n)
        return Tensor(shape: shape, scalars: values).cast(to: dtype)
    }

    /// Normal values redrawn until they lie within two standard deviations of the
    /// mean, as `tf.random.truncated_normal`.
    public static func truncatedNormal(_ shape: TensorShape, mean: Double = 0, stddev: Double = 1,
                                       dtype: DType = .float32) -> Tensor {
        withGlobalGenerator { truncatedNormal(shape, mean: mean, stddev: stddev, dtype: dtype, using: &$0) }
            .traced("randomTruncatedNormal", [], stateful: true, replay: { _ in truncatedNormal(shape, mean: mean, stddev: stddev, dtype: dtype) })
    }

    /// Truncated normal values from `generator`.
    public static func truncatedNormal(_ shape: TensorShape, mean: Double = 0, stddev: Double = 1,
                                       dtype: DType = .float32, using generator: inout RandomGenerator) -> Tensor {
        requireFloat(dtype, "Random.truncatedNormal")
        let n = shape.elementCount
        var values: [Double] = []
        values.reserveCapacity(n)
        while values.count < n {
            let (a, b) = generator.normalPair()
            if Swift.abs(a) <= 2 { values.append(mean + stddev * a) }
            if Swift.abs(b) <= 2 && values.count < n { values.append(mean + stddev * b) }
        }
        return Tensor(shape: shape, scalars: values).cast(to: dtype)
    }

    /// Uniform values in `[min, max)`: real for float dtypes, integers for integer dtypes.
    public static func uniform(_ shape: TensorShape, min: Double = 0, max: Double = 1,
                               dtype: DType = .float32) -> Tensor {
        withGlobalGenerator { uniform(shape, min: min, max: max, dtype: dtype, using: &$0) }
            .traced("randomUniform", [], stateful: true, replay: { _ in uniform(shape, min: min, max: max, dtype: dtype) })
    }

    /// Uniform values in `[min, max)` from `generator`.
    public static func uniform(_ shape: TensorShape, min: Double = 0, max: Double = 1,
                               dtype: DType = .float32, using generator: inout RandomGenerator) -> Tensor {
        precondition(dtype != .bool, "Random.uniform: bool is not a numeric dtype")
        precondition(min < max, "Random.uniform: min \(min) must be less than max \(max)")
        let n = shape.elementCount
        if dtype.isFloatingPoint {
            let values = (0..<n).map { _ in min + (max - min) * generator.nextUnit() }
            return Tensor(shape: shape, scalars: values).cast(to: dtype)
        }
        let lo = Int64(min.rounded(.up)), hi = Int64(max.rounded(.up))
        precondition(lo < hi, "Random.uniform: no integer lies in [\(min), \(max))")
        let values = (0..<n).map { _ in Int64.random(in: lo..<hi, using: &generator) }
        return Tensor(shape: shape, scalars: values).cast(to: dtype)
    }

    private static func requireFloat(_ dtype: DType, _ name: StaticString) {
        precondition(dtype.isFloatingPoint, "\(name): dtype must be float32 or float64, got \(dtype)")
    }
}
