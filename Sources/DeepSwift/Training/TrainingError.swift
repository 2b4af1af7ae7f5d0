/// Why `fit`, `evaluate` or `predict` cannot run on what they were given. These
/// depend on data and configuration, so they throw (a program can catch them and
/// go on); shape mismatches inside tensor math stay preconditions.
///
/// ```swift
/// do {
///     try model.fit(x: x, y: y)
/// } catch let error as TrainingError {
///     print(error)   // fit: x has 100 examples but y has 99
/// }
/// ```
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// Inputs, targets and sample weights that disagree on the number of examples.
    case mismatchedData(String)
    /// Inputs whose rank or shape the model cannot take.
    case incompatibleInput(String)
    /// A setting out of range (batch size, validation split), or training before
    /// `compile`.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .mismatchedData(let m), .incompatibleInput(let m), .invalidConfiguration(let m): return m
        }
    }
}
