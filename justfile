# Dialoog developer commands (https://just.systems; npm install -g rust-just)

# run the server with the dev outbox at /dev/outbox
dev:
    DIALOOG_DEV=1 DIALOOG_ADDR=localhost:8080 go run .

# run all tests
test:
    go test -timeout 25m ./...

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

# the real /ws beside a bare upgrade, a bare fan-out and Centrifugo (see bench/README.md; about 10 minutes)
bench-ws:
    go run ./bench/wsload -mode push -conns 1000,10000 -rate 20 -duration 20s

# build Centrifugo v6.9.1 once, outside the repository, for bench-ws (a few minutes)
bench-centrifugo:
    GOBIN="${XDG_CACHE_HOME:-$HOME/.cache}/dialoog-bench/centrifugo" go install github.com/centrifugal/centrifugo/v6@v6.9.1
