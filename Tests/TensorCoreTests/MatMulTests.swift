import XCTest
import CBLAS
@_spi(Kernels) @testable import TensorCore
import TestSupport

final class MatMulTests: XCTestCase {
    let a = Tensor([[1.0, 2, 3], [4, 5, 6]])          // (2, 3)
    let b = Tensor([[1.0, 0], [0, 1], [1, 1]])        // (3, 2)

    func testPlainAndTransposed() {
        XCTAssertEqual(matmul(a, b).array(as: [[Float]].self), [[4, 5], [10, 11]])
        XCTAssertEqual(matmul(a, a, transposeB: true).array(as: [[Float]].self), [[14, 32], [32, 77]])
        XCTAssertEqual(matmul(a, a, transposeA: true).shape, [3, 3])
        XCTAssertEqual(matmul(b, a, transposeA: true, transposeB: true).array(as: [[Float]].self), [[4, 10], [5, 11]])
        XCTAssertEqual(matmul(a.cast(to: .float64), b.cast(to: .float64)).dtype, .float64)
    }

    func testIntegerMatmulIsExact() {
        let i = Tensor([[1, 2], [3, 4]])
        let r = matmul(i, i)
        XCTAssertEqual(r.dtype, .int32)
        XCTAssertEqual(r.array(as: [[Int32]].self), [[7, 10], [15, 22]])
    }

    /// Many small products (attention's heads) split over the threads by batch
    /// entry: each equals its own 2-D product, bit for bit, broadcast batches too.
    func testManySmallProductsSplitByBatchEntry() {
        let saved = Threading.intraOpThreads
        defer { Threading.intraOpThreads = saved }
        Threading.intraOpThreads = 2
        setRandomSeed(4)
        let a = Random.normal([3, 40, 16, 8]), b = Random.normal([1, 40, 16, 8])   // 40·3 products of 16×8·8×16
        let c = matmul(a, b, transposeB: true)
        XCTAssertEqual(c.shape, [3, 40, 16, 16])
        for i in [0, 2] {
            for h in [0, 17, 39] {
                XCTAssertEqual(c[i, h], matmul(a[i, h], b[0, h], transposeB: true), "entry \(i), \(h)")
            }
        }
        Threading.intraOpThreads = 1
        XCTAssertEqual(matmul(a, b, transposeB: true), c)
    }

    func testBatchedWithBroadcast() {
        let batch = Tensor.stackingExample()             // (2, 2, 3)
        let r = matmul(batch, b)                         // (3, 2) broadcast over the batch
        XCTAssertEqual(r.shape, [2, 2, 2])
        XCTAssertEqual(r[0].array(as: [[Float]].self), [[4, 5], [10, 11]])
        XCTAssertEqual(r[1].array(as: [[Float]].self), [[8, 10], [20, 22]])
        let r2 = matmul(Tensor.ones([4, 1, 2, 3]), Tensor.ones([5, 3, 6]))
        XCTAssertEqual(r2.shape, [4, 5, 2, 6])
        XCTAssertEqual(r2.max().scalar(as: Float.self), 3)
    }

    func testAgainstNaiveLoopOnRandomData() {
        var g = RandomGenerator(seed: 4)
        for (m, k, n) in [(64, 784, 32), (7, 1, 5), (130, 140, 150)] {
            let x = Random.normal([m, k], dtype: .float64, using: &g)
            let y = Random.normal([k, n], dtype: .float64, using: &g)
            let expected = naiveProduct(x, y)
            assertClose(matmul(x, y), expected, tolerance: 1e-12)
            assertClose(matmul(x.cast(to: .float32), y.cast(to: .float32)), expected, tolerance: 1e-4)
        }
    }

    /// Mid-sized products split into blocks of rows (m >= n) or columns, one
    /// single-threaded BLAS call per intra-op thread: every transpose combination,
    /// float32 and float64, against a float64 loop; a batch of one row goes to gemv.
    func testSplitProductsAgainstNaiveLoop() {
        defer { Threading.intraOpThreads = 0 }
        Threading.intraOpThreads = 2
        var g = RandomGenerator(seed: 12)
        for (m, k, n) in [(96, 300, 33), (33, 300, 96), (1, 600, 700), (1, 40_000, 9)] {
            let x = Random.normal([m, k], dtype: .float64, using: &g)
            let y = Random.normal([k, n], dtype: .float64, using: &g)
            let want = naiveProduct(x, y)
            for dtype in [DType.float64, .float32] {
                let (a, b) = (x.cast(to: dtype), y.cast(to: dtype))
                let (at, bt) = (a.transposed(), b.transposed())
                let tolerance = dtype == .float64 ? 1e-12 : 1e-4
                assertClose(matmul(a, b), want, tolerance: tolerance)
                assertClose(matmul(at, b, transposeA: true), want, tolerance: tolerance)
                assertClose(matmul(a, bt, transposeB: true), want, tolerance: tolerance)
                assertClose(matmul(at, bt, transposeA: true, transposeB: true), want, tolerance: tolerance)
            }
        }
    }

    /// A batch of one through a dense layer accumulates onto the bias (beta 1),
    /// split by outputs or by the sum.
    func testSplitRowVectorProductsKeepTheBias() {
        defer { Threading.intraOpThreads = 0 }
        Threading.intraOpThreads = 2
        var g = RandomGenerator(seed: 14)
        for (k, n) in [(600, 700), (40_000, 9)] {
            let x = Random.normal([1, k], dtype: .float64, using: &g)
            let w = Random.normal([k, n], dtype: .float64, using: &g)
            let bias = Random.normal([n], dtype: .float64, using: &g)
            let want = naiveProduct(x, w) + bias
            assertClose(linear(x, w, bias), want, tolerance: 1e-12)
            assertClose(linear(x.cast(to: .float32), w.cast(to: .float32), bias.cast(to: .float32)), want, tolerance: 1e-3)
        }
    }

    /// OpenBLAS's thread count follows each product's size even when other code
    /// in the process changed it behind DeepSwift's back.
    func testBLASThreadCountFollowsTheProductSize() {
        defer { Threading.intraOpThreads = 0 }
        let procs = Int32(openblas_get_num_procs())
        let big = Tensor.ones([256, 256]), small = Tensor.ones([8, 8])
        openblas_set_num_threads(1)
        XCTAssertEqual(matmul(big, big)[0, 0].scalar(as: Float.self), 256)   // 2^24 multiply-adds
        XCTAssertEqual(openblas_get_num_threads(), procs)
        _ = matmul(small, small)
        XCTAssertEqual(openblas_get_num_threads(), 1)
        openblas_set_num_threads(procs)
        _ = matmul(small, small)
        XCTAssertEqual(openblas_get_num_threads(), 1, "set again although it was set to 1 before")
        Threading.intraOpThreads = 1
        _ = matmul(big, big)
        XCTAssertEqual(openblas_get_num_threads(), 1, "capped by Threading.intraOpThreads")
    }

    /// Concurrent single-threaded BLAS calls share no state: a split product
    /// repeated many times gives the same bits every time.
    func testSplitProductsAreRepeatable() {
        defer { Threading.intraOpThreads = 0 }
        Threading.intraOpThreads = 2
        var g = RandomGenerator(seed: 13)
        let x = Random.normal([64, 784], using: &g), y = Random.normal([784, 32], using: &g)
        let first = matmul(x, y).scalars(as: Float.self)
        for _ in 0..<200 { XCTAssertTrue(matmul(x, y).scalars(as: Float.self) == first) }
        // With the pool busy (here: inside one of its own parts) the product runs
        // the same blocks on one thread, so the bits do not depend on timing.
        let inside = UnsafeMutablePointer<[Float]>.allocate(capacity: 1)
        inside.initialize(to: [])
        defer { inside.deinitialize(count: 1); inside.deallocate() }
        Threading.parallelFor(2, grain: 1) { part in
            if part.lowerBound == 0 { inside.pointee = matmul(x, y).scalars(as: Float.self) }
        }
        XCTAssertTrue(inside.pointee == first)
    }

    /// x·y by the schoolbook loop in float64.
    func naiveProduct(_ x: Tensor, _ y: Tensor) -> Tensor {
        let (m, k, n) = (x.shape[0], x.shape[1], y.shape[1])
        let xs = x.scalars(as: Double.self), ys = y.scalars(as: Double.self)
        var product = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for p in 0..<k { for j in 0..<n { product[i * n + j] += xs[i * k + p] * ys[p * n + j] } } }
        return Tensor(shape: [m, n], scalars: product)
    }

    func testEmptyInnerDimensionGivesZeros() {
        XCTAssertEqual(matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])), Tensor.zeros([2, 3]))
    }
}

extension Tensor {
    static func stackingExample() -> Tensor {
        Tensor(stacking: [Tensor([[1.0, 2, 3], [4, 5, 6]]), Tensor([[2.0, 4, 6], [8, 10, 12]])])
    }
}
