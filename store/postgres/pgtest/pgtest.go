// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by GATEHOUSE_TEST_POSTGRES, so packages and tests that run
// in parallel never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the database the PostgreSQL tests use, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = "GATEHOUSE_TEST_POSTGRES"

// Require returns GATEHOUSE_TEST_POSTGRES, or skips the test with a message
// naming the variable when it is not set.
func Require(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip("SKIPPED: this PostgreSQL test needs " + EnvVar + " to point at a database, e.g. " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable (make test sets it when one answers on 127.0.0.1:5432)")
	}
	return base
}

// URL returns a connection URL whose search_path is a fresh, empty schema,
// dropped when the test ends. Without GATEHOUSE_TEST_POSTGRES the test is
// skipped, saying so.
func URL(t testing.TB) string {
	t.Helper()
	base := Require(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvVar)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "gatehouse_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
