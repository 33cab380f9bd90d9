// Command gatehouse-bench is Gatehouse's load generator: it drives the token
// endpoint (client_credentials, password, refresh_token), introspection and
// the Knox token endpoint at a chosen concurrency and reports throughput,
// latency percentiles, errors and, when it started the server itself, the
// server's CPU seconds per request and peak RSS, set against the machine's
// own cost of one signature and one password hash.
//
// Two other modes answer issue 5's other questions: -startup N (time from
// process start to the first token with N realms in the store, and idle
// RSS) and -scale (a store of 10,000 realms and a 1,000,000-user realm
// against a single-realm server, and the store's size under steady refresh
// load with the janitor running).
package main
