import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

final class ConvolutionLayerTests: XCTestCase {
    /// The Keras MNIST convnet of the `ConvNet` example.
    func makeConvNet() -> Sequential {
        Sequential([
            Conv2D(32, kernelSize: 3, activation: .relu),
            MaxPooling2D(poolSize: 2),
            Conv2D(64, kernelSize: [3, 3], activation: .relu),
            MaxPooling2D(poolSize: 2),
            Flatten(),
            Dropout(0.5),
            Dense(10),
        ], inputShape: [28, 28, 1])
    }

    func testConvNetShapesAndParameterCountsMatchKeras() {
        // keras.Sequential([...]).summary() for the same layers (Keras 3.12):
        // conv2d (None, 26, 26, 32) 320; max_pooling2d (None, 13, 13, 32) 0;
        // conv2d_1 (None, 11, 11, 64) 18,496; max_pooling2d_1 (None, 5, 5, 64) 0;
        // flatten (None, 1600) 0; dropout 0; dense (None, 10) 16,010; total 34,826.
        let model = makeConvNet()
        XCTAssertEqual(model.layers.map { $0.countParams() }, [320, 0, 18496, 0, 0, 0, 16010])
        XCTAssertEqual(model.countParams(), 34826)
        let y = model(Tensor.ones([2, 28, 28, 1]))
        XCTAssertEqual(y.shape, [2, 10])
        var lines: [String] = []
        model.summary { lines.append($0) }
        let rows = lines.filter { $0.contains("(None") }.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        XCTAssertEqual(rows.count, 7)
        // The name's counter depends on the Conv2D layers made before in this process.
        XCTAssertNotNil(rows[0].range(of: #"^conv2d(_[0-9]+)? \(Conv2D\) \(None, 26, 26, 32\) 320$"#, options: .regularExpression), rows[0])
        XCTAssertTrue(rows[1].hasSuffix("(None, 13, 13, 32) 0"), rows[1])
        XCTAssertTrue(rows[2].hasSuffix("(None, 11, 11, 64) 18496"), rows[2])
        XCTAssertTrue(rows[3].hasSuffix("(None, 5, 5, 64) 0"), rows[3])
        XCTAssertTrue(rows[4].hasSuffix("(None, 1600) 0"), rows[4])
        XCTAssertTrue(lines.contains("Total params: 34826 (136.04 KB)"), lines.joined(separator: "\n"))
    }

    func testLayerShapesAndWeightsFollowKeras() {
        // Shapes and counts from Keras 3 for the same layers and inputs.
        let c1 = Conv1D(16, kernelSize: 3, padding: .causal, dilationRate: 2)
        XCTAssertEqual(c1(Tensor.ones([4, 100, 8])).shape, [4, 100, 16])
        XCTAssertEqual(c1.kernel!.shape, [3, 8, 16])
        let c3 = Conv3D(8, kernelSize: 3, strides: [1, 2, 2], padding: .same)
        XCTAssertEqual(c3(Tensor.ones([2, 10, 10, 9, 1])).shape, [2, 10, 5, 5, 8])
        XCTAssertEqual(c3.countParams(), 224)
        let grouped = Conv2D(6, kernelSize: 3, groups: 2)
        XCTAssertEqual(grouped(Tensor.ones([1, 5, 5, 4])).shape, [1, 3, 3, 6])
        XCTAssertEqual(grouped.kernel!.shape, [3, 3, 2, 6])
        let t2 = Conv2DTranspose(32, kernelSize: 3, strides: 2, padding: .same)
        XCTAssertEqual(t2(Tensor.ones([1, 7, 7, 64])).shape, [1, 14, 14, 32])
        XCTAssertEqual(t2.kernel!.shape, [3, 3, 32, 64])
        XCTAssertEqual(t2.countParams(), 18464)
        XCTAssertEqual(Conv2DTranspose(1, kernelSize: 3, strides: 2)(Tensor.ones([1, 7, 7, 2])).shape, [1, 15, 15, 1])
        XCTAssertEqual(Conv1DTranspose(4, kernelSize: 3, strides: 2, padding: .same)(Tensor.ones([1, 10, 8])).shape, [1, 20, 4])
        XCTAssertEqual(Conv3DTranspose(2, kernelSize: 2, strides: 2)(Tensor.ones([1, 4, 4, 4, 3])).shape, [1, 8, 8, 8, 2])
        let dw = DepthwiseConv2D(kernelSize: 3, padding: .same, depthMultiplier: 2)
        XCTAssertEqual(dw(Tensor.ones([1, 8, 8, 16])).shape, [1, 8, 8, 32])
        XCTAssertEqual(dw.countParams(), 320)
        let sep = SeparableConv2D(32, kernelSize: 3)
        XCTAssertEqual(sep(Tensor.ones([1, 10, 10, 8])).shape, [1, 8, 8, 32])
        XCTAssertEqual(sep.namedWeights.map(\.name).map { String($0.split(separator: "/").last!) },
                       ["depthwise_kernel", "pointwise_kernel", "bias"])
        XCTAssertEqual(sep.countParams(), 72 + 256 + 32)
        XCTAssertEqual(MaxPooling1D()(Tensor.ones([1, 11, 3])).shape, [1, 5, 3])
        XCTAssertEqual(AveragePooling2D(poolSize: 3, strides: 2, padding: .same)(Tensor.ones([1, 7, 8, 3])).shape, [1, 4, 4, 3])
        XCTAssertEqual(MaxPooling3D()(Tensor.ones([1, 4, 5, 4, 2])).shape, [1, 2, 2, 2, 2])
        XCTAssertEqual(AveragePooling1D(poolSize: 3, strides: 1, padding: .same)(Tensor.ones([1, 10, 3])).shape, [1, 10, 3])
        XCTAssertEqual(AveragePooling3D()(Tensor.ones([1, 4, 4, 4, 2])).shape, [1, 2, 2, 2, 2])
        XCTAssertEqual(GlobalAveragePooling2D()(Tensor.ones([2, 7, 7, 64])).shape, [2, 64])
        XCTAssertEqual(GlobalMaxPooling2D(keepDims: true)(Tensor.ones([2, 7, 7, 64])).shape, [2, 1, 1, 64])
        XCTAssertEqual(GlobalAveragePooling1D()(Tensor.ones([2, 10, 8])).shape, [2, 8])
        XCTAssertEqual(GlobalMaxPooling1D()(Tensor.ones([2, 10, 8])).shape, [2, 8])
        XCTAssertEqual(ZeroPadding2D(padding: ((1, 2), (0, 3)))(Tensor.ones([1, 28, 28, 1])).shape, [1, 31, 31, 1])
        XCTAssertEqual(Cropping2D(cropping: ((2, 2), (4, 4)))(Tensor.ones([1, 28, 28, 3])).shape, [1, 24, 20, 3])
        XCTAssertEqual(UpSampling2D(size: [2, 3])(Tensor.ones([1, 7, 7, 16])).shape, [1, 14, 21, 16])
        XCTAssertEqual(Conv2D(1, kernelSize: 1).name.hasPrefix("conv2d"), true)
        XCTAssertEqual(MaxPooling2D().name.hasPrefix("max_pooling2d"), true)
        XCTAssertEqual(Conv2DTranspose(1, kernelSize: 1).name.hasPrefix("conv2d_transpose"), true)
    }

    func testLayerValues() {
        // A convolution with a ones kernel sums each window; the bias adds on.
        let conv = Conv2D(1, kernelSize: 2, kernelInitializer: .ones(), biasInitializer: .constant(0.5))
        let x = Tensor(shape: [1, 3, 3, 1], scalars: (0..<9).map(Float.init))
        XCTAssertEqual(conv(x).scalars(as: Float.self), [8.5, 12.5, 20.5, 24.5])
        // Nearest upsampling, zero padding and cropping move elements only.
        let img = Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4] as [Float])
        XCTAssertEqual(UpSampling2D(size: 2)(img).scalars(as: Float.self), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        XCTAssertEqual(ZeroPadding2D(padding: ((1, 0), (0, 1)))(img).scalars(as: Float.self), [0, 0, 0, 1, 2, 0, 3, 4, 0])
        XCTAssertEqual(Cropping2D(cropping: ((1, 0), (0, 1)))(img).scalars(as: Float.self), [3])
        // Depthwise: channel c·M + m is channel c through filter (c, m).
        let dw = DepthwiseConv2D(kernelSize: 1, depthMultiplier: 2, useBias: false)
        let pixel = Tensor(shape: [1, 1, 1, 2], scalars: [1, 10] as [Float])
        _ = dw(pixel)
        dw.kernel!.assign(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Float]))
        XCTAssertEqual(dw(pixel).scalars(as: Float.self), [1, 2, 30, 40])
        XCTAssertEqual(GlobalAveragePooling2D()(img).scalars(as: Float.self), [2.5])
        XCTAssertEqual(GlobalMaxPooling2D()(img).scalars(as: Float.self), [4])
    }

    func testGradientsThroughTheLayers() {
        // float64 layers, checked by finite differences of the whole layer.
        let x = Random.uniform([2, 5, 5, 4], min: -1, max: 1, dtype: .float64)
        for layer in [Conv2D(3, kernelSize: 3, padding: .same, groups: 1) as Layer, Conv2D(4, kernelSize: 2, groups: 2),
                      DepthwiseConv2D(kernelSize: 3, depthMultiplier: 2), SeparableConv2D(3, kernelSize: 2),
                      Conv2DTranspose(2, kernelSize: 3, strides: 2), UpSampling2D(size: 2), ZeroPadding2D(padding: 1),
                      Cropping2D(cropping: 1)] {
            layer.dtype = .float64
            _ = layer(x)
            checkGradients([x]) { square(layer($0[0])) }
        }
    }

    func testTrainingFlagReachesDropoutAndBatchNormalizationInACNN() {
        let bn = BatchNormalization()
        let model = Sequential([Conv2D(4, kernelSize: 3), bn, Dropout(0.5), GlobalAveragePooling2D(), Dense(2)],
                               inputShape: [8, 8, 3])
        let x = Random.normal([6, 8, 8, 3])
        // Inference is deterministic; training draws dropout masks and uses batch statistics.
        assertClose(model(x, training: false), model(x, training: false))
        XCTAssertEqual(bn.movingMean.shape, [4], "per-channel statistics on NHWC")
        let before = bn.movingMean.value.scalars(as: Float.self)
        _ = model(x, training: true)
        let after = bn.movingMean.value.scalars(as: Float.self)
        XCTAssertNotEqual(before, after, "training updates the moving mean")
        // The moving mean moves towards the per-channel batch mean over N, H and W.
        let convOut = model.layers[0](x)
        let channelMean = convOut.mean(axes: [0, 1, 2]).scalars(as: Float.self)
        for c in 0..<4 { XCTAssertEqual(after[c], before[c] * 0.99 + channelMean[c] * 0.01, accuracy: 1e-5) }
    }

    func testSafetensorsRoundTrip() throws {
        let a = makeConvNet(), b = makeConvNet()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try a.saveWeights(to: path)
        try b.loadWeights(from: path)
        let x = Random.uniform([3, 28, 28, 1])
        assertClose(b(x), a(x))
    }

    func testBadInputNamesTheLayerOpAndShapes() {
        let conv = Conv2D(4, kernelSize: 3, name: "c")
        assertTraps("Conv2D 'c': expected an input of rank 4 (batch, height, width, channels), got shape (28, 28, 1)") {
            _ = conv(Tensor.ones([28, 28, 1]))
        }
        let built = Conv2D(4, kernelSize: 3, name: "c2")
        _ = built(Tensor.ones([1, 8, 8, 3]))
        assertTraps("Conv2D 'c2': the input has 1 channels but the kernel (3, 3, 3, 4) was built for 3; input shape (1, 8, 8, 1)") {
            _ = built(Tensor.ones([1, 8, 8, 1]))
        }
        assertTraps("Conv2D 'c3': the window [5, 5] does not fit the input's spatial size [4, 4] with padding valid") {
            _ = Conv2D(1, kernelSize: 5, name: "c3")(Tensor.ones([1, 4, 4, 1]))
        }
        assertTraps("MaxPooling2D 'p': the window [3, 3] does not fit the input's spatial size [2, 2] with padding valid") {
            _ = MaxPooling2D(poolSize: 3, name: "p")(Tensor.ones([1, 2, 2, 1]))
        }
        // fit sees the mismatch before any math, with Keras's message.
        XCTAssertEqual(built.inputSpec?.problem(with: [1, 8, 8, 1], layer: "c2"),
                       "Input 0 of layer \"c2\" is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape (1, 8, 8, 1)")
    }

    func testACompiledConvNetStepReplaysTheEagerStepWithoutAllocating() {
        // Conv2D with relu takes the fused op on both paths (1 input channel: the
        // direct kernel; 4: im2col + GEMM).
        func net() -> Sequential {
            Sequential([Conv2D(4, kernelSize: 3, activation: .relu), MaxPooling2D(poolSize: 2),
                        Conv2D(6, kernelSize: 3, activation: .relu), Flatten(), Dense(3)], inputShape: [10, 10, 1])
        }
        setRandomSeed(8)
        let x = Random.normal([5, 10, 10, 1]), y = Tensor([0, 1, 2, 1, 0] as [Int32])
        setRandomSeed(9)
        let eager = net()
        setRandomSeed(9)
        let model = net()
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let eagerOptimizer = Adam(learningRate: 1e-2), optimizer = Adam(learningRate: 1e-2)
        let step = compiled { (x: Tensor, y: Tensor) -> Tensor in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x, training: true)) }
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            return loss
        }
        for _ in 0..<6 {
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, eager(x, training: true)) }
            eagerOptimizer.apply(tape.gradient(of: loss, wrt: eager.trainableWeights), to: eager.trainableWeights)
            XCTAssertEqual(step(x, y).scalar(as: Float.self), loss.scalar(as: Float.self), accuracy: 1e-5)
        }
        XCTAssertEqual(step.traceCount, 1)
        XCTAssertEqual(step.replayAllocations, 0)
        for (a, b) in zip(model.trainableWeights, eager.trainableWeights) { assertClose(a.value, b.value, tolerance: 1e-5) }
    }
}
