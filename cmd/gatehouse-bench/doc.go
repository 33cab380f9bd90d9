// Command gatehouse-bench is Gatehouse's load generator: it drives the token
// endpoint (client_credentials, password, refresh_token), introspection and
// the Knox token endpoint at a chosen concurrency and reports throughput,
// latency percentiles, errors and, when it started the server itself, the
// server's CPU seconds per request and peak RSS, set against the machine's
// own cost of one signature and one password hash.
package main
