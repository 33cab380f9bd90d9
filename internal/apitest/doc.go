// Package apitest holds the test helpers that the HTTP tests of several
// packages share (oidc and knox both test Knox tokens end to end; admin
// reads tokens too): reading a JSON answer, decoding a JWT without
// verifying it, calling the Knox API, and the realm set-up those tests
// repeat. It is imported only by tests.
package apitest
