package realms

import (
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT1H": time.Hour, "P7D": 7 * 24 * time.Hour, "PT30S": 30 * time.Second, "P1DT12H": 36 * time.Hour,
		"PT1H30M": 90 * time.Minute, "P2W": 14 * 24 * time.Hour, "PT0.5S": 500 * time.Millisecond, "PT90M": 90 * time.Minute,
	} {
		got, err := ParseISODuration(in)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "1H", "PT1", "P1Y", "P1M", "PT-1H", "PT0S", "P1H", "PTH", "PT1H1H", "P1DT", "PT1.5H",
		"P99999999999D", "PT1S2M", "P1D1W", "pt1h", "PT1HX"} {
		if d, err := ParseISODuration(bad); err == nil {
			t.Errorf("%q parsed as %v", bad, d)
		}
	}
}
