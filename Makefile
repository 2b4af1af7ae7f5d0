# DeepSwift: `make run` runs the guide, `make test` the tests, `make bench` the benchmarks.
# Each first installs the Debian packages the library links against, if missing.

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libsleef-dev zlib1g-dev dataset-fashion-mnist fortunes openmpi-bin libopenmpi-dev
SWIFT ?= swift

.PHONY: all deps build run test bench docs clean

all: build

deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

# The guide's own VAE losses make every reconstruction the same grey shape on this
# data; the picture comes from models trained with Keras's VAE example's losses.
run: deps
	$(SWIFT) run -c release Guide --reconstruction-loss bce-sum

test: deps
	$(SWIFT) test --disable-swift-testing

bench: deps
	$(SWIFT) run -c release Benchmarks

# The DocC catalog (Sources/DeepSwift/DeepSwift.docc) and the API, as static HTML in docs/.
docs: deps
	$(SWIFT) package --allow-writing-to-directory docs generate-documentation --target DeepSwift \
		--output-path docs --transform-for-static-hosting

clean:
	rm -rf .build
