import TensorCore

// Arithmetic operators that take variables directly, so that layer code reads
// `matmul(x, w) + b`. (The free math functions accept any `TensorConvertible`.)
extension Variable {
    public static func + (lhs: Variable, rhs: Variable) -> Tensor { lhs.value + rhs.value }
    public static func + (lhs: Tensor, rhs: Variable) -> Tensor { lhs + rhs.value }
    public static func + (lhs: Variable, rhs: Tensor) -> Tensor { lhs.value + rhs }
    public static func + (lhs: Variable, rhs: Double) -> Tensor { lhs.value + rhs }
    public static func + (lhs: Double, rhs: Variable) -> Tensor { lhs + rhs.value }

    public static func - (lhs: Variable, rhs: Variable) -> Tensor { lhs.value - rhs.value }
    public static func - (lhs: Tensor, rhs: Variable) -> Tensor { lhs - rhs.value }
    public static func - (lhs: Variable, rhs: Tensor) -> Tensor { lhs.value - rhs }
    public static func - (lhs: Variable, rhs: Double) -> Tensor { lhs.value - rhs }
    public static func - (lhs: Double, rhs: Variable) -> Tensor { lhs - rhs.value }
    public static prefix func - (x: Variable) -> Tensor { -x.value }

    public static func * (lhs: Variable, rhs: Variable) -> Tensor { lhs.value * rhs.value }
    public static func * (lhs: Tensor, rhs: Variable) -> Tensor { lhs * rhs.value }
    public static func * (lhs: Variable, rhs: Tensor) -> Tensor { lhs.value * rhs }
    public static func * (lhs: Variable, rhs: Double) -> Tensor { lhs.value * rhs }
    public static func * (lhs: Double, rhs: Variable) -> Tensor { lhs * rhs.value }

    public static func / (lhs: Variable, rhs: Variable) -> Tensor { lhs.value / rhs.value }
    public static func / (lhs: Tensor, rhs: Variable) -> Tensor { lhs / rhs.value }
    public static func / (lhs: Variable, rhs: Tensor) -> Tensor { lhs.value / rhs }
    public static func / (lhs: Variable, rhs: Double) -> Tensor { lhs.value / rhs }
    public static func / (lhs: Double, rhs: Variable) -> Tensor { lhs / rhs.value }
}
