// Autodiff builds on the tensor core; importing it gives the whole tensor API.
@_exported import TensorCore
