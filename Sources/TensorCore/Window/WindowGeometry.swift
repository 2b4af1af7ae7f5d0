/// How a sliding window (convolution, pooling) treats the borders, as Keras's
/// `padding` argument.
public enum Padding: String, Sendable, Hashable, CaseIterable {
    /// No padding: the window stays inside the input; the output has
    /// `(size - dilatedWindow) / stride + 1` positions per axis.
    case valid
    /// Zero padding so that the output has `ceil(size / stride)` positions per
    /// axis; as in TensorFlow, an odd total puts the extra element after.
    case same
    /// Padding only before the first element (`dilatedWindow - 1` of it), so that
    /// output t sees inputs up to t: Keras's `"causal"` for `Conv1D`.
    case causal
}

/// The geometry of one sliding-window op over channels-last data
/// (N, spatial…, C): sizes, window, strides, dilations and padding, with the
/// output size they give. Convolution and pooling ops carry it, so their gradient
/// ops and a compiled replay see the same positions.
///
/// ```swift
/// let g = WindowGeometry(input: [128, 28, 28, 1], window: [3, 3], outChannels: 32, op: "conv2D")
/// g.output      // [26, 26]
/// ```
public struct WindowGeometry: Hashable, Sendable {
    /// The batch size N.
    public let batch: Int
    /// Channels of the input (C).
    public let inChannels: Int
    /// Channels of the output (equal to `inChannels` for pooling).
    public let outChannels: Int
    /// Spatial sizes of the input, of the window, and of the output.
    public let input: [Int], window: [Int], output: [Int]
    /// Steps between windows and between window elements, per spatial axis.
    public let strides: [Int], dilations: [Int]
    /// Padding before the first element, per spatial axis.
    public let padBefore: [Int]
    /// The 20 integers `ck_im2col` and the pooling kernels read.
    let packed: [Int]

    /// The geometry of a window over an input of shape `input` (N, spatial…, C).
    ///
    /// - Parameters:
    ///   - input: the input's shape, batch first and channels last.
    ///   - window: the window's size per spatial axis.
    ///   - strides: steps between windows (default 1 on every axis).
    ///   - dilations: steps between window elements (default 1).
    ///   - padding: `.valid`, `.same` or `.causal`.
    ///   - outChannels: the output's channels (nil: the input's).
    ///   - op: the op's name for error messages.
    public init(input: TensorShape, window: [Int], strides: [Int]? = nil, dilations: [Int]? = nil,
                padding: Padding = .valid, outChannels: Int? = nil, op: String) {
        let d = window.count
        precondition((1...3).contains(d), "\(op): 1 to 3 spatial axes are supported, got a window of \(d)\(currentScopeDescription)")
        precondition(input.rank == d + 2,
                     "\(op): expected an input of rank \(d + 2) (batch, \(d) spatial axes, channels), got shape \(input)\(currentScopeDescription)")
        let strides = strides ?? Array(repeating: 1, count: d)
        let dilations = dilations ?? Array(repeating: 1, count: d)
        precondition(strides.count == d && dilations.count == d,
                     "\(op): strides \(strides) and dilations \(dilations) need \(d) entries each\(currentScopeDescription)")
        precondition(window.allSatisfy { $0 > 0 } && strides.allSatisfy { $0 > 0 } && dilations.allSatisfy { $0 > 0 },
                     "\(op): window \(window), strides \(strides) and dilations \(dilations) must be positive\(currentScopeDescription)")
        precondition(padding != .causal || d == 1, "\(op): causal padding is for one spatial axis only\(currentScopeDescription)")
        let sizes = Array(input.dimensions[1...d])
        var output = [Int](), pads = [Int]()
        for i in 0..<d {
            let span = (window[i] - 1) * dilations[i] + 1
            switch padding {
            case .valid:
                precondition(span <= sizes[i],
                             "\(op): the window \(window) (dilated span \(span) on axis \(i + 1)) is larger than the input \(input) with \"valid\" padding\(currentScopeDescription)")
                output.append((sizes[i] - span) / strides[i] + 1)
                pads.append(0)
            case .same:
                let out = (sizes[i] + strides[i] - 1) / strides[i]
                output.append(out)
                pads.append(Swift.max((out - 1) * strides[i] + span - sizes[i], 0) / 2)
            case .causal:
                output.append((sizes[i] - 1) / strides[i] + 1)
                pads.append(span - 1)
            }
        }
        self.init(batch: input[0], inChannels: input[d + 1], outChannels: outChannels ?? input[d + 1], input: sizes,
                  window: window, output: output, strides: strides, dilations: dilations, padBefore: pads)
    }

    /// A geometry with every size given (the transposed convolution's, whose
    /// output is the convolution's input).
    public init(batch: Int, inChannels: Int, outChannels: Int, input: [Int], window: [Int], output: [Int],
                strides: [Int], dilations: [Int], padBefore: [Int]) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.input = input
        self.window = window
        self.output = output
        self.strides = strides
        self.dilations = dilations
        self.padBefore = padBefore
        let lead = 3 - input.count
        func padded(_ values: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: lead) + values }
        packed = [batch, inChannels] + padded(input, 1) + padded(window, 1) + padded(output, 1) + padded(strides, 1)
            + padded(dilations, 1) + padded(padBefore, 0)
    }

    /// The input's shape (N, input…, inChannels).
    public var inputShape: TensorShape { TensorShape([batch] + input + [inChannels]) }
    /// The output's shape (N, output…, outChannels).
    public var outputShape: TensorShape { TensorShape([batch] + output + [outChannels]) }
    /// The convolution kernel's shape, in Keras's layout (window…, inChannels, outChannels).
    public var kernelShape: TensorShape { TensorShape(window + [inChannels, outChannels]) }

    /// The same windows with `channels` channels in and out (pooling, and the
    /// im2col of a convolution's input).
    func withChannels(_ channels: Int) -> WindowGeometry {
        WindowGeometry(batch: batch, inChannels: channels, outChannels: channels, input: input, window: window,
                       output: output, strides: strides, dilations: dilations, padBefore: padBefore)
    }

    /// Whether every window is one element and the windows tile the input
    /// (a 1×1 convolution with stride 1): im2col is then the input itself.
    var isPointwise: Bool {
        window.allSatisfy { $0 == 1 } && strides.allSatisfy { $0 == 1 } && padBefore.allSatisfy { $0 == 0 }
    }

    /// Output positions over the whole batch (the rows of the im2col matrix).
    var rows: Int { batch * output.reduce(1, *) }
    /// Elements of one im2col row: window elements times input channels.
    var columns: Int { window.reduce(1, *) * inChannels }
}

extension WindowGeometry: CustomStringConvertible {
    /// `input [N, …, C] window […] strides […] dilations […] pad […] → output […]`.
    public var description: String {
        "input \(inputShape) window \(window) strides \(strides) dilations \(dilations) pad \(padBefore) → output \(outputShape)"
    }
}
