// Math on symbolic tensors records functions in the graph, so that loss
// expressions read as in the guide: `-0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()`.

extension SymbolicTensor {
    public static func + (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { lambda([a, b]) { $0[0] + $0[1] } }
    public static func - (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { lambda([a, b]) { $0[0] - $0[1] } }
    public static func * (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { lambda([a, b]) { $0[0] * $0[1] } }
    public static func / (a: SymbolicTensor, b: SymbolicTensor) -> SymbolicTensor { lambda([a, b]) { $0[0] / $0[1] } }
    public static func + (a: SymbolicTensor, b: Double) -> SymbolicTensor { lambda([a]) { $0[0] + b } }
    public static func - (a: SymbolicTensor, b: Double) -> SymbolicTensor { lambda([a]) { $0[0] - b } }
    public static func * (a: SymbolicTensor, b: Double) -> SymbolicTensor { lambda([a]) { $0[0] * b } }
    public static func / (a: SymbolicTensor, b: Double) -> SymbolicTensor { lambda([a]) { $0[0] / b } }
    public static func + (a: Double, b: SymbolicTensor) -> SymbolicTensor { lambda([b]) { a + $0[0] } }
    public static func - (a: Double, b: SymbolicTensor) -> SymbolicTensor { lambda([b]) { a - $0[0] } }
    public static func * (a: Double, b: SymbolicTensor) -> SymbolicTensor { lambda([b]) { a * $0[0] } }
    public static func / (a: Double, b: SymbolicTensor) -> SymbolicTensor { lambda([b]) { a / $0[0] } }
    public static prefix func - (a: SymbolicTensor) -> SymbolicTensor { lambda([a]) { -$0[0] } }

    /// The mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> SymbolicTensor {
        SymbolicTensor.lambda([self]) { $0[0].mean(axes: axes, keepDims: keepDims) }
    }
    /// The sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> SymbolicTensor {
        SymbolicTensor.lambda([self]) { $0[0].sum(axes: axes, keepDims: keepDims) }
    }
}

public func square(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { square($0[0]) } }
public func exp(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { exp($0[0]) } }
public func log(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { log($0[0]) } }
public func sqrt(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { sqrt($0[0]) } }
public func abs(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { abs($0[0]) } }
public func relu(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { relu($0[0]) } }
public func sigmoid(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { sigmoid($0[0]) } }
public func tanh(_ x: SymbolicTensor) -> SymbolicTensor { .lambda([x]) { tanh($0[0]) } }
public func softmax(_ x: SymbolicTensor, axis: Int = -1) -> SymbolicTensor { .lambda([x]) { softmax($0[0], axis: axis) } }
public func matmul(_ a: SymbolicTensor, _ b: SymbolicTensor) -> SymbolicTensor { .lambda([a, b]) { matmul($0[0], $0[1]) } }
