// `import DeepSwift` is all a user needs: it brings the autodiff and tensor APIs.
@_exported import Autodiff
