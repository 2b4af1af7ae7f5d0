import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// Keras 3's values (JAX backend, float32) for the same inputs and weights:
/// `sin(arange(n)·a + b)` sequences, computed outside the project.
final class AttentionLayerTests: XCTestCase {
    func seq(_ shape: TensorShape, _ a: Double, _ b: Double = 0, times: Double = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.elementCount).map { Float(sin(Double($0) * a + b) * times) })
    }

    func assertValues(_ t: Tensor, _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        assertClose(t, Tensor(shape: t.shape, scalars: expected), tolerance: 2e-5, file: file, line: line)
    }

    func testMultiHeadAttentionMatchesKeras() {
        let q = seq([2, 3, 4], 0.37), v = seq([2, 4, 6], 0.23, 1), k = seq([2, 4, 5], 0.41, 2)
        let mha = MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 2, outputShape: 5)
        _ = mha(q, v, key: k)
        XCTAssertEqual(mha.weights.map(\.shape), [[4, 2, 3], [2, 3], [5, 2, 3], [2, 3], [6, 2, 2], [2, 2], [2, 2, 5], [5]])
        let values = [seq([4, 2, 3], 0.11, 0.3, times: 0.5), seq([2, 3], 0.7, 0.1, times: 0.1), seq([5, 2, 3], 0.13, 0.5, times: 0.5),
                      seq([2, 3], 0.5, 0.2, times: 0.1), seq([6, 2, 2], 0.17, 0.7, times: 0.5), seq([2, 2], 0.3, 0.3, times: 0.1),
                      seq([2, 2, 5], 0.19, 0.9, times: 0.5), seq([5], 0.9, 0.4, times: 0.1)]
        for (w, value) in zip(mha.weights, values) { w.assign(value) }
        let (plain, scores) = mha.callWithScores(q, v, key: k)
        XCTAssertEqual(plain.shape, [2, 3, 5])
        XCTAssertEqual(scores.shape, [2, 2, 3, 4])
        assertValues(plain, Self.plain)
        assertValues(scores, Self.scores)
        assertValues(mha(q, v, key: k, useCausalMask: true), Self.causal)
        // A mask with a fully masked query (batch 0, query 1): its probabilities are zeros.
        var allowed = [Bool](repeating: true, count: 24)
        for s in 0..<4 { allowed[4 + s] = false }
        for t in 0..<3 { allowed[12 + t * 4 + 3] = false }
        allowed[12 + 2 * 4] = false
        let (masked, maskedScores) = mha.callWithScores(q, v, key: k, attentionMask: Tensor(shape: [2, 3, 4], scalars: allowed))
        assertValues(masked, Self.masked)
        assertValues(maskedScores, Self.mscores)
        XCTAssertFalse(maskedScores.scalars(as: Float.self).contains { $0.isNaN })
    }

    func testAttentionAndAdditiveAttentionMatchKeras() {
        let q = seq([2, 3, 4], 0.37), v = seq([2, 4, 5], 0.23, 1), k = seq([2, 4, 4], 0.41, 2)
        let queryMask = Tensor(shape: [2, 3], scalars: [true, false, true, true, true, true])
        let valueMask = Tensor(shape: [2, 4], scalars: [true, true, false, true, false, true, true, true])
        let dot = Attention(useScale: true)
        _ = dot(q, v, key: k)
        dot.scale!.assign(Tensor(Float(0.7)))
        let (output, scores) = dot.callWithScores(q, v, key: k)
        assertValues(output, Self.dotScaled)
        assertValues(scores, Self.dotScores)
        assertValues(dot(q, v, key: k, queryMask: queryMask, valueMask: valueMask), Self.dotMasked)
        assertValues(dot(q, v, key: k, useCausalMask: true), Self.dotCausal)
        let concat = Attention(useScale: true, scoreMode: .concat)
        _ = concat(q, v, key: k)
        concat.scale!.assign(Tensor(Float(0.8)))
        concat.concatScoreWeight!.assign(Tensor(Float(1.3)))
        assertValues(concat(q, v, key: k), Self.concat)
        let additive = AdditiveAttention()
        _ = additive(q, v, key: k)
        XCTAssertEqual(additive.weights.map(\.shape), [[4]])
        additive.scale!.assign(seq([4], 0.9, 0.2))
        let (addOut, addScores) = additive.callWithScores(q, v, key: k, queryMask: queryMask, valueMask: valueMask)
        assertValues(addOut, Self.additiveMasked)
        assertValues(addScores, Self.additiveScores)
    }

    func testDotProductAttentionOp() {
        // (batch, length, heads, depth) against the per-head formula.
        setRandomSeed(3)
        let q = Random.normal([2, 3, 2, 4]), k = Random.normal([2, 5, 2, 4]), v = Random.normal([2, 5, 2, 3])
        let out = dotProductAttention(query: q, key: k, value: v, isCausal: true)
        XCTAssertEqual(out.shape, [2, 3, 2, 3])
        for b in 0..<2 {
            for h in 0..<2 {
                let qh = q[b, .all, h], kh = k[b, .all, h], vh = v[b, .all, h]
                var s = matmul(qh, kh, transposeB: true) * 0.5
                let lower = Tensor(shape: [3, 5], scalars: (0..<15).map { $0 % 5 <= $0 / 5 })
                s = `where`(lower, s, Tensor(Float(-1e9)))
                assertClose(out[b, .all, h], matmul(softmax(s, axis: -1), vh), tolerance: 1e-5)
            }
        }
        // Every key masked: zeros, not NaN.
        let none = Tensor(shape: [1, 1, 1, 5], scalars: [Bool](repeating: false, count: 5))
        XCTAssertEqual(dotProductAttention(query: q, key: k, value: v, mask: none), Tensor.zeros([2, 3, 2, 3]))
    }

    func testGradientsToSecondOrder() {
        setRandomSeed(4)
        let q = Random.normal([1, 3, 2, 2]), k = Random.normal([1, 4, 2, 2]), v = Random.normal([1, 4, 2, 3])
        let mask = Tensor(shape: [1, 1, 3, 4], scalars: [true, true, false, true, false, true, true, true, true, false, true, true])
        checkGradients([q, k, v]) { xs in dotProductAttention(query: xs[0], key: xs[1], value: xs[2], mask: mask, isCausal: true) }
        let mha = MultiHeadAttention(numHeads: 2, keyDim: 2, valueDim: 3)
        let x = Random.normal([2, 3, 4], dtype: .float64), y = Random.normal([2, 4, 4], dtype: .float64)
        mha.dtype = .float64
        _ = mha(x, y)
        checkGradients([x, y] + mha.weights.map(\.value)) { xs in
            for (w, value) in zip(mha.weights, xs.dropFirst(2)) { w.assign(value) }
            return mha(xs[0], xs[1], useCausalMask: true)
        }
        let additive = AdditiveAttention()
        additive.dtype = .float64
        _ = additive(x, y)
        checkGradients([x, y] + additive.weights.map(\.value)) { xs in
            additive.scale!.assign(xs[2])
            return additive(xs[0], xs[1])
        }
    }

    func testSavedAndLoadedWithTheModel() throws {
        setRandomSeed(6)
        let tokens = Input(shape: [5, 6]), other = Input(shape: [4, 6])
        let mixed = MultiHeadAttention(numHeads: 3, keyDim: 2, valueDim: 4, outputShape: 7)(tokens, other)
        let scored = AdditiveAttention()(tokens, other)
        let model = Model(inputs: [tokens, other], outputs: [mixed, Attention(useScale: true, scoreMode: .concat)(scored, other)])
        let folder = NSTemporaryDirectory() + "deepswift-attention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try model.save(to: folder)
        let loaded = try loadModel(from: folder)
        let (a, b) = (Random.normal([2, 5, 6]), Random.normal([2, 4, 6]))
        XCTAssertEqual(loaded([a, b]), model([a, b]))
        XCTAssertEqual(loaded.weights.map(\.shape), model.weights.map(\.shape))
    }

    /// In a functional graph, the causal flag and an attention-mask input are
    /// recorded with the call, replayed and saved.
    func testFunctionalCallsKeepTheirArguments() throws {
        setRandomSeed(8)
        let tokens = Input(shape: [5, 4]), allowed = Input(shape: [5, 5], dtype: .bool)
        let attention = MultiHeadAttention(numHeads: 2, keyDim: 3)
        let causal = attention(tokens, tokens, useCausalMask: true)
        let masked = attention(tokens, tokens, attentionMask: allowed)
        let model = Model(inputs: [tokens, allowed], outputs: [causal, masked])
        let x = Random.normal([2, 5, 4])
        let mask = Tensor(shape: [2, 5, 5], scalars: (0..<50).map { $0 % 3 != 1 })
        let outputs = model([x, mask])
        XCTAssertEqual(outputs[0], attention(x, x, useCausalMask: true))
        XCTAssertEqual(outputs[1], attention(x, x, attentionMask: mask))
        XCTAssertNotEqual(outputs[0], attention(x, x))
        let folder = NSTemporaryDirectory() + "deepswift-attention-args-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try model.save(to: folder)
        let text = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"use_causal_mask\": true"), text)
        XCTAssertEqual(try loadModel(from: folder)([x, mask]), outputs)
    }

    func testFunctionalModelAndBadInputs() {
        let tokens = Input(shape: [6, 8])
        let attention = MultiHeadAttention(numHeads: 2, keyDim: 4)
        let model = Model(inputs: tokens, outputs: attention(tokens, tokens))
        XCTAssertEqual(model(Tensor.ones([3, 6, 8])).shape, [3, 6, 8])
        XCTAssertEqual(model.countParams(), 3 * (8 * 2 * 4 + 2 * 4) + 2 * 4 * 8 + 8)
        assertTraps("MultiHeadAttention '\(attention.name)': attentionMask must be a bool (batch, 6, 6) tensor, got float32 (3, 6, 6)") {
            _ = attention(Tensor.ones([3, 6, 8]), Tensor.ones([3, 6, 8]), attentionMask: Tensor.ones([3, 6, 6]))
        }
        assertTraps("MultiHeadAttention '\(attention.name)': expects (batch, length, features) inputs") {
            _ = attention(Tensor.ones([3, 8]), Tensor.ones([3, 8]))
        }
    }

    static let plain: [Float] = [-0.06211434, 0.009362169, 0.01104954, -0.04593625, -0.1042658, -0.07068998, 0.01278186, 0.02634147, -0.01932247, -0.06728806, 0.3325346, 0.3314316, 0.2489478, 0.09922845, -0.05705933, -0.142674, -0.0915832, -0.1066484, -0.1761506, -0.24231, 0.2814622, 0.2918693, 0.2223193, 0.08649226, -0.05544487, 0.2615655, 0.2162758, 0.0937499, -0.09042571, -0.2743438]
    static let scores: [Float] = [0.3965662, 0.02492342, 0.1280532, 0.4504571, 0.4151265, 0.007296897, 0.07823998, 0.4993365, 0.1085105, 0.5807199, 0.2105021, 0.1002675, 0.4188249, 0.05373603, 0.09105846, 0.4363807, 0.4648396, 0.009625973, 0.0249372, 0.5005972, 0.1260824, 0.4304441, 0.3202603, 0.1232131, 0.4996667, 0.07398809, 0.007639616, 0.4187056, 0.1268128, 0.2376775, 0.5011145, 0.1343952, 0.007551584, 0.06638753, 0.9167968, 0.009264177, 0.4078574, 0.2711914, 0.008755393, 0.3121958, 0.2001525, 0.2212177, 0.370287, 0.2083428, 0.01588559, 0.02543198, 0.9376458, 0.02103656]
    static let causal: [Float] = [0.7589552, 0.7533356, 0.6511501, 0.4672534, 0.2635422, 0.7572194, 0.7499127, 0.6461633, 0.4608822, 0.256016, 0.4462642, 0.4197032, 0.3085842, 0.1280833, -0.06002459, 0.227712, 0.32291, 0.3370337, 0.2807517, 0.2113678, 0.6926906, 0.7027876, 0.6181381, 0.4529653, 0.2684925, 0.2693781, 0.2202723, 0.09378648, -0.09435039, -0.2820885]
    static let masked: [Float] = [-0.06211434, 0.009362169, 0.01104954, -0.04593625, -0.1042658, 0.03894183, 0.09635582, 0.08084964, 0.004158066, -0.07568025, 0.3325346, 0.3314316, 0.2489478, 0.09922845, -0.05705933, 0.278696, 0.3038691, 0.2486534, 0.1262127, -0.003767639, 0.4318484, 0.4107663, 0.3054478, 0.1308603, -0.05143409, 0.2682213, 0.2168263, 0.08817531, -0.1019248, -0.2913535]
    static let mscores: [Float] = [0.3965662, 0.02492342, 0.1280532, 0.4504571, 0, 0, 0, 0, 0.1085105, 0.5807199, 0.2105021, 0.1002675, 0.4188249, 0.05373603, 0.09105846, 0.4363807, 0, 0, 0, 0, 0.1260824, 0.4304441, 0.3202603, 0.1232131, 0.859576, 0.1272816, 0.01314242, 0, 0.1465019, 0.2745797, 0.5789184, 0, 0, 0.06752297, 0.932477, 0, 0.5929847, 0.3942857, 0.01272949, 0, 0.2528272, 0.2794362, 0.4677365, 0, 0, 0.02640699, 0.9735931, 0]
    static let dotScaled: [Float] = [-0.3785238, -0.4168157, -0.4331551, -0.4266815, -0.3977357, -0.3298369, -0.328796, -0.3104383, -0.2757307, -0.2265011, 0.5067872, 0.4040665, 0.2800647, 0.1413127, -0.004881819, 0.4727603, 0.6295029, 0.7530913, 0.8370165, 0.8768584, 0.4351598, 0.3996043, 0.3430026, 0.268336, 0.1795368, 0.2579744, 0.1109084, -0.04199886, -0.1926941, -0.3332407]
    static let dotScores: [Float] = [0.2124712, 0.0456044, 0.1498121, 0.5921124, 0.3201757, 0.01604746, 0.03511281, 0.628664, 0.1975181, 0.5347578, 0.1876224, 0.08010173, 0.04688094, 0.80779, 0.1352771, 0.01005196, 0.1606278, 0.1350051, 0.3443897, 0.3599774, 0.1459214, 0.008205988, 0.05807073, 0.7878019]
    static let dotMasked: [Float] = [-0.4174272, -0.4235295, -0.4073256, -0.3696691, -0.3125431, 0, 0, 0, 0, 0, 0.6602641, 0.5848534, 0.4786402, 0.3472182, 0.1975093, 0.527064, 0.6820017, 0.8010204, 0.8778516, 0.9084487, 0.6392382, 0.5598614, 0.4509983, 0.3183824, 0.1689982, 0.4099034, 0.204662, -0.01135848, -0.2267807, -0.430259]
    static let dotCausal: [Float] = [0.841471, 0.9424888, 0.9938684, 0.9929036, 0.9396455, 0.8412527, 0.9304413, 0.9706263, 0.959691, 0.8982115, 0.6350129, 0.5262823, 0.3898339, 0.232854, 0.06361035, -0.6312667, -0.4378315, -0.2213371, 0.00681464, 0.2346074, -0.1374702, 0.05518813, 0.2449398, 0.4217913, 0.5764281, -0.1433237, -0.01295933, 0.1180876, 0.2429152, 0.3549492]
    static let concat: [Float] = [-0.3072454, -0.2978449, -0.2727578, -0.2333053, -0.1815652, -0.403095, -0.4081792, -0.3917658, -0.3547193, -0.2989905, -0.6540576, -0.6676396, -0.6460588, -0.590452, -0.5037477, 0.3167344, 0.1363644, -0.05118752, -0.2360435, -0.4084678, 0.2532149, 0.09474611, -0.06871268, -0.2285526, -0.3763553, 0.2201806, 0.1095746, -0.006802426, -0.1228212, -0.2323713]
    static let additiveMasked: [Float] = [-0.1359462, -0.1171525, -0.09218861, -0.06236948, -0.0292655, 0, 0, 0, 0, 0, -0.3903853, -0.3908351, -0.3707007, -0.3310426, -0.2739494, 0.4649223, 0.3053092, 0.1296163, -0.05290309, -0.2326363, 0.4722937, 0.2951975, 0.102554, -0.09549066, -0.2885062, 0.573953, 0.4418461, 0.2864683, 0.1160031, -0.06057177]
    static let additiveScores: [Float] = [0.4214329, 0.03782981, 0, 0.5407373, 0.4077815, 0.0636953, 0, 0.5285232, 0.2795301, 0.03894701, 0, 0.6815229, 0, 0.08556425, 0.1448482, 0.7695875, 0, 0.03507864, 0.1631947, 0.8017268, 0, 0.07434174, 0.3186156, 0.6070426]
}
