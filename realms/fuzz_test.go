package realms

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/seeds"
)

func FuzzParseISODuration(f *testing.F) {
	seeds.Load(f, "duration")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseISODuration(s); err == nil && (d <= 0 || d > 10*365*24*time.Hour) {
			t.Fatalf("%q gave out-of-range %v", s, d)
		}
	})
}
