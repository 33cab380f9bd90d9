// Package nodetest runs the JavaScript client libraries of
// testdata/kcadmin (Keycloak's admin client, openid-client) unchanged
// against a test server. `make test` installs their pinned packages (npm
// ci); a plain `go test` never reaches the npm registry, so without node
// or without node_modules a test skips, saying how to install them.
package nodetest
