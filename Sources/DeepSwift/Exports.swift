// `import DeepSwift` is all a user needs: it brings the compiled-function,
// autodiff and tensor APIs.
@_exported import Compile
@_exported import Autodiff
