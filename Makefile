# guardduty-response: build, test and try the GuardDuty responder.
# `make demo` and `make test` are the two commands a newcomer runs; both
# install or start what they need.

GO            ?= go
GOBIN         := $(shell $(GO) env GOPATH)/bin
RIE_VERSION   := v0.0.0-20261030222936-bef5c4ba774d
RIE           := $(GOBIN)/aws-lambda-rie
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT    := $(GOBIN)/actionlint
MOTO_VERSION  := 5.2.1
FUZZTIME      ?= 30s
STACK         ?=

# The Lambda binary for this machine; `make bootstrap GOARCH=arm64` builds the
# one Lambda runs. Reproducible: no cgo, no paths, no build id.
BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

.PHONY: all bootstrap package commands test test-long demo bench lint tools moto rie actionlint \
	preview up destroy check-stack stacks clean

all: lint test

bootstrap:
	mkdir -p build
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o build/bootstrap ./handler

# build/responder.zip for provided.al2023 on arm64, byte-identical when built
# twice from the same source.
package:
	mkdir -p build
	$(GO) run ./infra/cmd/package -out build/responder.zip

test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./handler/finding
	$(GO) test -run '^$$' -fuzz FuzzChoose -fuzztime $(FUZZTIME) -fuzzminimizetime 3s ./handler/playbook
	$(GO) test -run '^$$' -fuzz FuzzParseKey -fuzztime $(FUZZTIME) ./handler/evidence
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime $(FUZZTIME) ./handler/evidence
	$(ACTIONLINT)

# The commands for people: verify the evidence, release a quarantine.
commands:
	mkdir -p build
	CGO_ENABLED=0 $(GO) build -trimpath -o build/verify ./handler/cmd/verify
	CGO_ENABLED=0 $(GO) build -trimpath -o build/release ./handler/cmd/release

demo: tools
	$(GO) run ./handler/cmd/demo

bench: tools package
	@ls -l build/responder.zip | awk '{print "responder.zip: " $$5 " bytes"}'
	$(GO) test -run '^$$' -bench 'Response|ColdStart' -benchtime 30x -count=1 -timeout 30m ./handler/...
	$(GO) test -run '^$$' -bench 'Load' -benchtime 200x -count=1 -timeout 30m ./handler/e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

tools: moto rie actionlint

# moto_server comes from PyPI, which some machines cannot reach: then the
# command to run is named and the build stops.
moto:
	@command -v moto_server >/dev/null 2>&1 || \
	  pip install "moto[server]==$(MOTO_VERSION)" || \
	  { echo "moto_server is missing: install it with pip install 'moto[server]==$(MOTO_VERSION)'"; exit 1; }

rie: $(RIE)
$(RIE):
	$(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

actionlint: $(ACTIONLINT)
$(ACTIONLINT):
	$(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# Stack operations; they need the Pulumi CLI, cloud credentials and a login
# to the state backend (see the README).
preview up destroy: check-stack
preview:
	pulumi preview --diff --stack $(STACK)
up:
	pulumi up --diff --stack $(STACK)
destroy:
	pulumi destroy --stack $(STACK)

check-stack:
	@test -n "$(STACK)" || { echo "usage: make $(MAKECMDGOALS) STACK=<stack>"; exit 2; }

# Every stack in stacks/ with its account, region and role.
stacks:
	$(GO) run ./infra/cmd/stacks

clean:
	rm -rf build
