import CKernels

extension Tensor {
    /// A rank-0 tensor of `dtype` holding `value` (converted as C converts).
    @inlinable public init(_ value: Double, dtype: DType) {
        self.init(uninitializedShape: [], dtype: dtype)
        ck_fill(dtype.ck, storage.data, value, 1)
    }

    /// Runs one elementwise binary kernel with NumPy broadcasting.
    @usableFromInline
    static func binary(_ op: ck_binary_op, _ a: Tensor, _ b: Tensor, _ name: String) -> Tensor {
        precondition(a.dtype == b.dtype,
                     "\(name): dtype mismatch: \(a.dtype) vs \(b.dtype) (shapes \(a.shape) and \(b.shape)); use cast(to:)\(currentScopeDescription)")
        let isComparison = op.rawValue >= CK_EQ.rawValue && op.rawValue <= CK_GE.rawValue
        let outType: DType = isComparison ? .bool : a.dtype
        let err: Int32
        let out: Tensor
        if a.shape == b.shape {
            out = Tensor(uninitializedShape: a.shape, dtype: outType)
            err = ck_binary(op, a.dtype.ck, a.storage.data, 1, b.storage.data, 1, out.storage.data, a.count)
        } else if b.count == 1 && b.rank <= a.rank {
            out = Tensor(uninitializedShape: a.shape, dtype: outType)
            err = ck_binary(op, a.dtype.ck, a.storage.data, 1, b.storage.data, 0, out.storage.data, a.count)
        } else if a.count == 1 && a.rank <= b.rank {
            out = Tensor(uninitializedShape: b.shape, dtype: outType)
            err = ck_binary(op, a.dtype.ck, a.storage.data, 0, b.storage.data, 1, out.storage.data, b.count)
        } else if let rows = Tensor.rowBroadcast(a.shape, b.shape) {
            // b repeats along a's leading axes (a bias add): rows of b.count.
            out = Tensor(uninitializedShape: a.shape, dtype: outType)
            err = Tensor.rowsKernel(op, a, b, out, rows: rows, n: b.count, aIsRows: true)
        } else if let rows = Tensor.rowBroadcast(b.shape, a.shape) {
            out = Tensor(uninitializedShape: b.shape, dtype: outType)
            err = Tensor.rowsKernel(op, b, a, out, rows: rows, n: a.count, aIsRows: false)
        } else {
            let shape = broadcastShape(a.shape, b.shape, op: "\(name)")
            out = Tensor(uninitializedShape: shape, dtype: outType)
            if out.count > 0 {
                var strides = [broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape)]
                let dims = coalesceAxes(shape.dimensions, &strides)
                err = ck_binary_nd(op, a.dtype.ck, Int32(dims.count), dims, a.storage.data, strides[0],
                                   b.storage.data, strides[1], out.storage.data)
            } else {
                err = 0
            }
        }
        precondition(err == 0, "\(name): integer division by zero\(currentScopeDescription)")
        return out
    }

    /// The number of rows when `small` equals the trailing axes of `big` (so it
    /// repeats along big's leading axes), else nil.
    static func rowBroadcast(_ big: TensorShape, _ small: TensorShape) -> Int? {
        guard small.rank < big.rank, small.rank > 0,
              big.dimensions[(big.rank - small.rank)...].elementsEqual(small.dimensions) else { return nil }
        let n = small.elementCount
        return n == 0 ? nil : big.elementCount / n
    }

    /// `rows` × `n` elementwise op between a full operand and one row repeated.
    static func rowsKernel(_ op: ck_binary_op, _ full: Tensor, _ row: Tensor, _ out: Tensor,
                           rows: Int, n: Int, aIsRows: Bool) -> Int32 {
        let dims = [rows, n], fullStrides = [n, 1], rowStrides = [0, 1]
        return aIsRows
            ? ck_binary_nd(op, full.dtype.ck, 2, dims, full.storage.data, fullStrides, row.storage.data, rowStrides, out.storage.data)
            : ck_binary_nd(op, full.dtype.ck, 2, dims, row.storage.data, rowStrides, full.storage.data, fullStrides, out.storage.data)
    }

    @usableFromInline static func requireArithmetic(_ t: Tensor, _ name: StaticString) {
        precondition(t.dtype != .bool, "\(name): arithmetic is not defined on bool tensors; cast(to:) a number type first\(currentScopeDescription)")
    }
}

// MARK: - Arithmetic operators

extension Tensor {
    /// Elementwise sum with broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        applying(.add, lhs, rhs)
    }
    /// Elementwise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        applying(.subtract, lhs, rhs)
    }
    /// Elementwise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        applying(.multiply, lhs, rhs)
    }
    /// Elementwise quotient with broadcasting; integer division truncates toward
    /// zero, and an integer division by zero traps.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        applying(.divide, lhs, rhs)
    }
    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor {
        x.applying(.negate)
    }

    // A Swift number operand takes the tensor's dtype: `x * 2` keeps x's dtype.
    public static func + (lhs: Tensor, rhs: Double) -> Tensor { lhs + Tensor(rhs, dtype: lhs.dtype) }
    public static func + (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs, dtype: rhs.dtype) + rhs }
    public static func - (lhs: Tensor, rhs: Double) -> Tensor { lhs - Tensor(rhs, dtype: lhs.dtype) }
    public static func - (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs, dtype: rhs.dtype) - rhs }
    public static func * (lhs: Tensor, rhs: Double) -> Tensor { lhs * Tensor(rhs, dtype: lhs.dtype) }
    public static func * (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs, dtype: rhs.dtype) * rhs }
    public static func / (lhs: Tensor, rhs: Double) -> Tensor { lhs / Tensor(rhs, dtype: lhs.dtype) }
    public static func / (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs, dtype: rhs.dtype) / rhs }

    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
    public static func += (lhs: inout Tensor, rhs: Double) { lhs = lhs + rhs }
    public static func -= (lhs: inout Tensor, rhs: Double) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, rhs: Double) { lhs = lhs * rhs }
    public static func /= (lhs: inout Tensor, rhs: Double) { lhs = lhs / rhs }
}

/// `x` raised to the power `y`, elementwise with broadcasting.
public func pow(_ x: some TensorConvertible, _ y: some TensorConvertible) -> Tensor {
    let (x, y) = (x.tensor, y.tensor)
    return Tensor.applying(.pow, x, y)
}
/// `x` raised to the power `y` (converted to x's dtype).
public func pow(_ x: some TensorConvertible, _ y: Double) -> Tensor { pow(x, Tensor(y, dtype: x.tensor.dtype)) }

/// The larger of the two, elementwise with broadcasting (NaN wins, as in TensorFlow).
public func maximum(_ x: some TensorConvertible, _ y: some TensorConvertible) -> Tensor {
    let (x, y) = (x.tensor, y.tensor)
    return Tensor.applying(.maximum, x, y)
}
public func maximum(_ x: some TensorConvertible, _ y: Double) -> Tensor { maximum(x, Tensor(y, dtype: x.tensor.dtype)) }

/// The smaller of the two, elementwise with broadcasting (NaN wins, as in TensorFlow).
public func minimum(_ x: some TensorConvertible, _ y: some TensorConvertible) -> Tensor {
    let (x, y) = (x.tensor, y.tensor)
    return Tensor.applying(.minimum, x, y)
}
public func minimum(_ x: some TensorConvertible, _ y: Double) -> Tensor { minimum(x, Tensor(y, dtype: x.tensor.dtype)) }

// MARK: - Comparisons and logic (results are bool tensors)

extension Tensor {
    /// Elementwise `==`, giving a bool tensor. (`==` compares whole tensors.)
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_EQ, lhs, rhs, "equal").traced("equal", [lhs, rhs], replay: { $0[0] .== $0[1] }) }
    /// Elementwise `!=`, giving a bool tensor.
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_NE, lhs, rhs, "notEqual").traced("notEqual", [lhs, rhs], replay: { $0[0] .!= $0[1] }) }
    /// Elementwise `<`, giving a bool tensor.
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_LT, lhs, rhs, "less").traced("less", [lhs, rhs], replay: { $0[0] .< $0[1] }) }
    /// Elementwise `<=`, giving a bool tensor.
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_LE, lhs, rhs, "lessEqual").traced("lessEqual", [lhs, rhs], replay: { $0[0] .<= $0[1] }) }
    /// Elementwise `>`, giving a bool tensor.
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_GT, lhs, rhs, "greater").traced("greater", [lhs, rhs], replay: { $0[0] .> $0[1] }) }
    /// Elementwise `>=`, giving a bool tensor.
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { binary(CK_GE, lhs, rhs, "greaterEqual").traced("greaterEqual", [lhs, rhs], replay: { $0[0] .>= $0[1] }) }

    public static func .== (lhs: Tensor, rhs: Double) -> Tensor { lhs .== Tensor(rhs, dtype: lhs.dtype) }
    public static func .!= (lhs: Tensor, rhs: Double) -> Tensor { lhs .!= Tensor(rhs, dtype: lhs.dtype) }
    public static func .< (lhs: Tensor, rhs: Double) -> Tensor { lhs .< Tensor(rhs, dtype: lhs.dtype) }
    public static func .<= (lhs: Tensor, rhs: Double) -> Tensor { lhs .<= Tensor(rhs, dtype: lhs.dtype) }
    public static func .> (lhs: Tensor, rhs: Double) -> Tensor { lhs .> Tensor(rhs, dtype: lhs.dtype) }
    public static func .>= (lhs: Tensor, rhs: Double) -> Tensor { lhs .>= Tensor(rhs, dtype: lhs.dtype) }
}

@usableFromInline func requireBool(_ t: Tensor, _ name: StaticString) {
    precondition(t.dtype == .bool, "\(name): expected a bool tensor, got \(t.dtype)\(currentScopeDescription)")
}

/// Elementwise logical AND of two bool tensors.
public func logicalAnd(_ x: Tensor, _ y: Tensor) -> Tensor {
    requireBool(x, "logicalAnd")
    return Tensor.binary(CK_AND, x, y, "logicalAnd").traced("logicalAnd", [x, y], replay: { logicalAnd($0[0], $0[1]) })
}
/// Elementwise logical OR of two bool tensors.
public func logicalOr(_ x: Tensor, _ y: Tensor) -> Tensor {
    requireBool(x, "logicalOr")
    return Tensor.binary(CK_OR, x, y, "logicalOr").traced("logicalOr", [x, y], replay: { logicalOr($0[0], $0[1]) })
}
/// Elementwise logical NOT of a bool tensor.
public func logicalNot(_ x: Tensor) -> Tensor {
    requireBool(x, "logicalNot")
    return x.unary(CK_NOT).traced("logicalNot", [x], replay: { logicalNot($0[0]) })
}
