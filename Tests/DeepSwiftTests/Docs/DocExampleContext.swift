import DeepSwift

/// Where ``DocExamples.swift`` compiles the `///` examples of Sources: a layer, so
/// that examples of a layer's own methods (`addWeight`) compile too. Each example
/// is a method taking, as parameters, the names examples take as given (a model,
/// a batch, a tape: ``DocExampleTests/givenNames``). The examples are compiled,
/// never run.
class DocExampleContext: Layer {}

/// Shows a value an example computes to show it (`x.shape   // (2, 3)`), so that
/// compiling it does not warn about an unused result.
func show<T>(_ value: T) {}

/// The lines of a file, for the `interleave` example.
func linesDataset(_ file: Tensor) -> Dataset<Tensor> { Dataset.fromTensorSlices(Tensor.zeros([3, 2])) }
