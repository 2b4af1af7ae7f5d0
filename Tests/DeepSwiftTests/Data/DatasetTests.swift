import XCTest
@testable import DeepSwift

final class DatasetTests: XCTestCase {
    let x = Tensor.range(0, 10).reshaped(to: [10, 1])
    let y = Tensor.range(100, 110)

    func rows(_ d: Dataset<Tensor>) -> [[Int32]] { Array(d.map { $0.scalars(as: Int32.self) }) }

    func testSlicesAndPairs() {
        XCTAssertEqual(Array(Dataset.fromTensorSlices(x).map { $0.shape }), Array(repeating: [1], count: 10))
        let pairs = Array(Dataset.fromTensorSlices((x, y)))
        XCTAssertEqual(pairs.count, 10)
        XCTAssertEqual(pairs[3].0.scalars(as: Int32.self), [3])
        XCTAssertEqual(pairs[3].1.scalar(as: Int32.self), 103)
    }

    func testBatchKeepsOrDropsTheRemainder() {
        let batches = Array(Dataset.fromTensorSlices((x, y)).batch(4))
        XCTAssertEqual(batches.map { $0.0.shape }, [[4, 1], [4, 1], [2, 1]])
        XCTAssertEqual(batches[2].1.scalars(as: Int32.self), [108, 109])
        XCTAssertEqual(Array(Dataset.fromTensorSlices(x).batch(4, dropRemainder: true)).count, 2)
        // Batching after map goes through stacking rather than index gathering.
        let mapped = Array(Dataset.fromTensorSlices(x).map { $0 * 2 }.batch(3))
        XCTAssertEqual(mapped.map(\.shape), [[3, 1], [3, 1], [3, 1], [1, 1]])
        XCTAssertEqual(mapped[3].scalars(as: Int32.self), [18])
    }

    func testShuffleIsAReproduciblePermutation() {
        let d = Dataset.fromTensorSlices(x).shuffle(bufferSize: 10, seed: 7)
        let first = rows(d).flatMap { $0 }, second = rows(d).flatMap { $0 }
        XCTAssertEqual(first.sorted(), Array(0..<10))
        XCTAssertNotEqual(first, second, "each pass reshuffles")
        XCTAssertEqual(rows(Dataset.fromTensorSlices(x).shuffle(bufferSize: 10, seed: 7)).flatMap { $0 }, first)
        let fixed = Dataset.fromTensorSlices(x).shuffle(bufferSize: 10, seed: 7, reshuffleEachIteration: false)
        XCTAssertEqual(rows(fixed), rows(fixed))
        setRandomSeed(3)
        let a = rows(Dataset.fromTensorSlices(x).shuffle(bufferSize: 4))
        setRandomSeed(3)
        XCTAssertEqual(rows(Dataset.fromTensorSlices(x).shuffle(bufferSize: 4)), a)
    }

    func testShuffleBufferSemantics() {
        // With a buffer of 1 nothing moves; with a buffer of 3 no element can come out
        // before the two elements ahead of it have entered the buffer.
        XCTAssertEqual(rows(Dataset.fromTensorSlices(x).shuffle(bufferSize: 1, seed: 1)).flatMap { $0 }, Array(0..<10))
        let order = rows(Dataset.fromTensorSlices(x).shuffle(bufferSize: 3, seed: 5)).flatMap { $0 }
        for (position, value) in order.enumerated() {
            XCTAssertLessThanOrEqual(Int(value), position + 2, "element \(value) came out before it could be in the buffer")
        }
    }

    func testShuffledBatchesAreGatheredRows() {
        let batches = Array(Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 10, seed: 1).batch(5))
        for (bx, by) in batches {
            XCTAssertEqual(bx.reshaped(to: [-1]) + 100, by)
        }
    }

    func testMapFilterTakeSkipRepeat() {
        let d = Dataset.fromTensorSlices(x)
        XCTAssertEqual(rows(d.filter { $0.scalar(as: Int32.self) % 3 == 0 }), [[0], [3], [6], [9]])
        XCTAssertEqual(rows(d.take(2)), [[0], [1]])
        XCTAssertEqual(rows(d.skip(8)), [[8], [9]])
        XCTAssertEqual(rows(d.take(2).repeat(3)).flatMap { $0 }, [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(rows(d.skip(7).repeat().take(7)).flatMap { $0 }, [7, 8, 9, 7, 8, 9, 7])
        XCTAssertEqual(rows(d.take(0).repeat()), [])
        XCTAssertEqual(rows(d.map { $0 + 1 }.take(1)), [[1]])
    }

    /// A dataset of tensor slices works on row indices a block at a time; after
    /// `map` the same transforms run on elements. Both give the same elements in
    /// the same order, batched or not.
    func testIndexPathMatchesElementPath() {
        let big = Tensor.range(0, 300).reshaped(to: [300, 1])
        let pipelines: [(String, (Dataset<Tensor>) -> Dataset<Tensor>)] = [
            ("shuffle", { $0.shuffle(bufferSize: 37, seed: 4) }),
            ("shuffle+repeat", { $0.shuffle(bufferSize: 64, seed: 5).repeat(3) }),
            ("repeat+shuffle", { $0.repeat(2).shuffle(bufferSize: 100, seed: 6) }),
            ("take+skip", { $0.skip(11).take(250).shuffle(bufferSize: 20, seed: 7) }),
            ("endless", { $0.take(7).repeat().shuffle(bufferSize: 5, seed: 8).take(600) }),
            ("skip past the end", { $0.skip(400).repeat() }),
        ]
        for (name, pipeline) in pipelines {
            let viaIndices = pipeline(Dataset.fromTensorSlices(big))
            let viaElements = pipeline(Dataset.fromTensorSlices(big).map { $0 })
            XCTAssertNotNil(viaIndices.slices, name)
            XCTAssertNil(viaElements.slices, name)
            let elements = rows(viaElements)
            XCTAssertEqual(rows(viaIndices), elements, name)
            // Second passes (reshuffled alike), batched; a fresh dataset's first
            // pass, batched, holds the first pass's elements.
            let batched = Array(viaIndices.batch(64).map { $0.scalars(as: Int32.self) })
            XCTAssertEqual(batched, Array(viaElements.batch(64).map { $0.scalars(as: Int32.self) }), name)
            let fresh = Array(pipeline(Dataset.fromTensorSlices(big)).batch(64).map { $0.scalars(as: Int32.self) })
            XCTAssertEqual(fresh.flatMap { $0 }, elements.flatMap { $0 }, name)
        }
        XCTAssertEqual(rows(Dataset.fromTensorSlices(big).skip(400).repeat()), [])
        XCTAssertEqual(Array(Dataset.fromTensorSlices(big).take(130).batch(64, dropRemainder: true)).count, 2)
    }

    func testCardinality() {
        let d = Dataset.fromTensorSlices((x, y))
        XCTAssertEqual(d.cardinality, 10)
        XCTAssertEqual(d.shuffle(bufferSize: 4).batch(4).cardinality, 3)
        XCTAssertEqual(d.batch(4, dropRemainder: true).cardinality, 2)
        XCTAssertEqual(d.take(3).repeat(2).cardinality, 6)
        XCTAssertEqual(d.skip(12).cardinality, 0)
        XCTAssertNil(d.repeat().cardinality)
        XCTAssertNil(d.filter { _ in true }.cardinality)
        XCTAssertEqual(d.map { $0.0 }.prefetch().cardinality, 10)
    }

    func testEnumeratedLoopsLikeTheGuide() {
        var steps: [Int] = []
        for (step, (bx, by)) in Dataset.fromTensorSlices((x, y)).batch(4).enumerated() {
            steps.append(step)
            XCTAssertEqual(bx.shape[0], by.shape[0])
        }
        XCTAssertEqual(steps, [0, 1, 2])
    }

    func testPrefetchYieldsTheSameElementsAndStopsEarly() {
        let d = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 10, seed: 9, reshuffleEachIteration: false).batch(3)
        let direct = Array(d.map { $0.1.scalars(as: Int32.self) })
        let prefetched = Array(d.prefetch(2).map { $0.1.scalars(as: Int32.self) })
        XCTAssertEqual(prefetched, direct)
        // Breaking off early leaves no blocked producer behind.
        for _ in 0..<20 {
            for (step, _) in Dataset.fromTensorSlices(x).repeat().prefetch(1).enumerated() where step == 3 { break }
        }
    }

    func testGuidePreprocessing() throws {
        let ((xTrain, yTrain), _) = try FashionMNIST.loadData()
        let images = xTrain[..<256].reshaped(to: [256, 784]).cast(to: .float32) / 255
        let d = Dataset.fromTensorSlices((images, yTrain[..<256])).shuffle(bufferSize: 1024).batch(64)
        let batches = Array(d)
        XCTAssertEqual(batches.count, 4)
        XCTAssertEqual(batches[0].0.shape, [64, 784])
        XCTAssertEqual(batches[0].0.dtype, .float32)
        XCTAssertLessThanOrEqual(batches[0].0.max().scalar(as: Float.self), 1)
        XCTAssertEqual(batches[0].1.dtype, .uint8)
    }
}
