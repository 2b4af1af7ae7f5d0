/// A value that stands for a tensor in math: a ``Tensor`` itself, or a variable
/// holding one. The free math functions (`exp`, `matmul`, ...) accept any of them,
/// so layer code can write `matmul(x, w)` with `w` a variable.
public protocol TensorConvertible {
    /// The tensor this value stands for now.
    var tensor: Tensor { get }
}

extension Tensor: TensorConvertible {
    public var tensor: Tensor { self }
}
