import XCTest
@testable import TensorCore
import TestSupport

/// Expected strings are NumPy 2.4's `str(array)` for the same values.
final class PrintingTests: XCTestCase {
    func testGuideIntTensor() {
        let x = Tensor([[5, 2], [1, 3]])
        XCTAssertEqual(x.description, "DeepSwift.Tensor(\n[[5 2]\n [1 3]], shape=(2, 2), dtype=int32)")
        XCTAssertEqual("\(x.dtype)", "int32")
        XCTAssertEqual("\(x.shape)", "(2, 2)")
    }

    func testOnesAndZeros() {
        XCTAssertEqual(Tensor.ones([2, 1]).description, "DeepSwift.Tensor(\n[[1.]\n [1.]], shape=(2, 1), dtype=float32)")
        XCTAssertEqual(Tensor.zeros([2, 1]).description, "DeepSwift.Tensor(\n[[0.]\n [0.]], shape=(2, 1), dtype=float32)")
    }

    func testOneLineAndScalar() {
        XCTAssertEqual(Tensor([1, 2, 3]).description, "DeepSwift.Tensor([1 2 3], shape=(3,), dtype=int32)")
        XCTAssertEqual(Tensor(Float(3)).description, "DeepSwift.Tensor(3.0, shape=(), dtype=float32)")
        XCTAssertEqual(Tensor(true).description, "DeepSwift.Tensor(True, shape=(), dtype=bool)")
        XCTAssertEqual(Tensor.zeros([0, 3]).description, "DeepSwift.Tensor([], shape=(0, 3), dtype=float32)")
    }

    func testFloatColumnsAlign() {
        let t = Tensor([[0.6405563, 0.03973103], [-0.6126285, -0.71384406]])
        XCTAssertEqual(t.valuesDescription, "[[ 0.6405563   0.03973103]\n [-0.6126285  -0.71384406]]")
        let m = Tensor([[1.5, 100.25], [3.0, -7.125]], dtype: .float64)
        XCTAssertEqual(m.valuesDescription, "[[  1.5   100.25 ]\n [  3.     -7.125]]")
    }

    func testPrecisionIsCappedAtEightDecimals() {
        let t = Tensor(shape: [2], scalars: [0.123456789123, 2.0])
        XCTAssertEqual(t.valuesDescription, "[0.12345679 2.        ]")
    }

    func testScientificNotation() {
        XCTAssertEqual(Tensor([1.5e-5, 1.0]).valuesDescription, "[1.5e-05 1.0e+00]")
        XCTAssertEqual(Tensor(shape: [3], scalars: [1e10, -2.5e-3, 3.0]).valuesDescription,
                       "[ 1.0e+10 -2.5e-03  3.0e+00]")
        // Positive exponents pad to two digits, as NumPy's.
        XCTAssertEqual(Tensor([1e9, 1.0]).valuesDescription, "[1.e+09 1.e+00]")
        XCTAssertEqual(Tensor([1e20, 1.0], dtype: .float64).valuesDescription, "[1.e+20 1.e+00]")
        XCTAssertEqual(Tensor([1e200, 1.0], dtype: .float64).valuesDescription, "[1.e+200 1.e+000]")
    }

    func testNonFinite() {
        let t = Tensor(shape: [3], scalars: [1, Float.nan, -Float.infinity])
        XCTAssertEqual(t.valuesDescription, "[  1.  nan -inf]")
    }

    func testBoolAndInt64() {
        XCTAssertEqual(Tensor([true, false, true]).valuesDescription, "[ True False  True]")
        XCTAssertEqual(Tensor(shape: [3], scalars: [-5, 100, 7] as [Int64]).valuesDescription, "[ -5 100   7]")
    }

    func testLongRowsWrapAt75Characters() {
        let t = Tensor.range(0, 30, dtype: .float32) * Tensor(Float(1.1))
        XCTAssertEqual(t.valuesDescription, """
            [ 0.         1.1        2.2        3.3000002  4.4        5.5
              6.6000004  7.7000003  8.8        9.900001  11.        12.1
             13.200001  14.3       15.400001  16.5       17.6       18.7
             19.800001  20.9       22.        23.1       24.2       25.300001
             26.400002  27.5       28.6       29.7       30.800001  31.900002 ]
            """)
    }

    func testLargeTensorsAreSummarised() {
        let t = Tensor.range(0, 2000).reshaped(to: [40, 50])
        XCTAssertEqual(t.valuesDescription, """
            [[   0    1    2 ...   47   48   49]
             [  50   51   52 ...   97   98   99]
             [ 100  101  102 ...  147  148  149]
             ...
             [1850 1851 1852 ... 1897 1898 1899]
             [1900 1901 1902 ... 1947 1948 1949]
             [1950 1951 1952 ... 1997 1998 1999]]
            """)
    }

    func testSummarisedScientific3D() {
        let t = (Tensor.range(0, 3000, dtype: .float32) / 7).reshaped(to: [3, 10, 100])
        let text = t.valuesDescription
        XCTAssertTrue(text.hasPrefix("[[[0.0000000e+00 1.4285715e-01 2.8571430e-01 ... 1.3857142e+01\n   1.4000000e+01 1.4142858e+01]\n  [1.4285714e+01"), text)
        XCTAssertTrue(text.hasSuffix("  [4.1428571e+02 4.1442856e+02 4.1457144e+02 ... 4.2814285e+02\n   4.2828571e+02 4.2842856e+02]]]"), text)
        XCTAssertEqual(text.components(separatedBy: "\n\n").count, 3)
    }

    func testZeros3D() {
        XCTAssertEqual(Tensor.zeros([2, 2, 2]).valuesDescription, "[[[0. 0.]\n  [0. 0.]]\n\n [[0. 0.]\n  [0. 0.]]]")
    }
}

/// Expected strings are NumPy 2.4's `repr(array)`.
final class ReprTests: XCTestCase {
    func testRepr() {
        XCTAssertEqual(Tensor([[0.6405563, 0.03973103], [-0.6126285, -0.71384406]]).numpyDescription,
                       "array([[ 0.6405563 ,  0.03973103],\n       [-0.6126285 , -0.71384406]], dtype=float32)")
        XCTAssertEqual(Tensor([[5, 2], [1, 3]]).numpyDescription, "array([[5, 2],\n       [1, 3]], dtype=int32)")
        XCTAssertEqual((Tensor.range(0, 30, dtype: .float32) * Tensor(Float(1.1))).numpyDescription, """
            array([ 0.       ,  1.1      ,  2.2      ,  3.3000002,  4.4      ,
                    5.5      ,  6.6000004,  7.7000003,  8.8      ,  9.900001 ,
                   11.       , 12.1      , 13.200001 , 14.3      , 15.400001 ,
                   16.5      , 17.6      , 18.7      , 19.800001 , 20.9      ,
                   22.       , 23.1      , 24.2      , 25.300001 , 26.400002 ,
                   27.5      , 28.6      , 29.7      , 30.800001 , 31.900002 ],
                  dtype=float32)
            """)
        XCTAssertEqual(Tensor.range(0, 2000, dtype: .int64).reshaped(to: [40, 50]).numpyDescription, """
            array([[   0,    1,    2, ...,   47,   48,   49],
                   [  50,   51,   52, ...,   97,   98,   99],
                   [ 100,  101,  102, ...,  147,  148,  149],
                   ...,
                   [1850, 1851, 1852, ..., 1897, 1898, 1899],
                   [1900, 1901, 1902, ..., 1947, 1948, 1949],
                   [1950, 1951, 1952, ..., 1997, 1998, 1999]], shape=(40, 50))
            """)
    }
}
