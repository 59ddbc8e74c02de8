# Dialoog developer commands (https://just.systems; npm install -g rust-just)

# run the server with the dev outbox at /dev/outbox
dev:
    DIALOOG_DEV=1 go run .

# run all tests
test:
    go test ./...

# regenerate the templ components
generate:
    go tool templ generate

# run the browser and process tests verbosely, uncached
e2e:
    go test ./e2e/ -v -count=1

# fail on unformatted files or vet findings
lint:
    test -z "$(gofmt -l . | tee /dev/stderr)" && go vet ./...

# run the CI script as CI does
ci:
    bash .ci/run

# run the benchmarks only
bench:
    go test -run '^$' -bench . ./...

# WebSocket fan-out load test: hub against bare baselines (see bench/README.md)
bench-ws:
    go run ./bench/wsload -conns 1000,5000
