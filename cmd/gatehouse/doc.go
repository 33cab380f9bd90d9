// Command gatehouse is the Gatehouse binary: `gatehouse serve` runs the token
// service on an embedded bbolt store (zero configuration), and further verbs
// administer it.
package main
