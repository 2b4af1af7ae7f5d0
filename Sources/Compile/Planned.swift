@_spi(Autodiff) import TensorCore

/// A node of the plan: a traced node as it is, or a fused elementwise chain.
struct Planned {
    var action: CompiledGraph.Action
    var inputs: [Int]
    var output: Int?
    let shape: TensorShape
    let dtype: DType
    let viewOf: Int?
    var chainLength: Int

    /// Whether the step writes a new result (which gets a planned buffer).
    var allocates: Bool {
        switch action {
        case .fused: return true
        case .node(.op), .node(.accumulate): return viewOf == nil
        case .node: return false
        }
    }

    init(_ node: Tracer.Node) {
        action = .node(node.kind)
        inputs = node.inputs
        output = node.output
        shape = node.shape
        dtype = node.dtype
        viewOf = node.viewOf
        chainLength = 1
    }

    /// A node that starts a chain (it runs as a one-op chain until another joins).
    init(_ node: Tracer.Node, chainStart link: ElementwiseChain.Kernel) {
        self.init(node)
        let first = ElementwiseChain.Link(kernel: link, operand: node.inputs.count > 1 ? 1 : nil)
        chain = ElementwiseChain(firstInput: 0, links: [first], shape: node.shape, dtype: node.dtype)
    }

    /// The chain this node carries while it can still grow (nil for other nodes).
    private var chain: ElementwiseChain? {
        didSet { if let chain, chainLength > 1 { action = .fused(chain) } }
    }

    /// Appends `node`, which reads this chain's result `previous`.
    mutating func extend(with node: Tracer.Node, previous: Int, link: ElementwiseChain.Kernel) {
        var kernel = link
        var operand: Int?
        if case .binary(let op, _) = link {
            let other = node.inputs[0] == previous ? node.inputs[1] : node.inputs[0]
            kernel = .binary(op, previousOnLeft: node.inputs[0] == previous)
            if let k = inputs.firstIndex(of: other) { operand = k } else { inputs.append(other); operand = inputs.count - 1 }
        }
        chainLength += 1
        output = node.output
        chain = ElementwiseChain(firstInput: chain!.firstInput, links: chain!.links + [.init(kernel: kernel, operand: operand)],
                                 shape: shape, dtype: dtype)
    }

    /// The chain kernel of `node` when it can be fused: a float elementwise op
    /// whose inputs have its number of elements or a single element.
    static func link(_ node: Tracer.Node, shapes: [TensorShape]) -> ElementwiseChain.Kernel? {
        guard case .op(.differentiable(let op)) = node.kind, node.viewOf == nil,
              node.dtype == .float32 || node.dtype == .float64,
              let kernel = ElementwiseChain.kernel(of: op),
              // An input with as many elements as the result is laid out as the result
              // (broadcasting only inserts axes of size 1 then): a bias row of a batch of one.
              node.inputs.allSatisfy({ shapes[$0].elementCount == node.shape.elementCount || shapes[$0].elementCount == 1 })
        else { return nil }
        if let unary = kernel.unary { return .unary(unary) }
        // A binary op's left operand must have the full shape unless the chain runs through it.
        return .binary(kernel.binary!, previousOnLeft: true)
    }
}
