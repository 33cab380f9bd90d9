package realms

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseISODuration parses an ISO-8601 duration as Knox's lifespan, ttl and
// renewal settings use it: PnW, PnD, PTnHnMnS and combinations such as
// P1DT12H. Years and months are refused (their length is not fixed);
// fractions are allowed on seconds only. The result must be positive and at
// most ten years.
func ParseISODuration(s string) (time.Duration, error) {
	orig := s
	if len(s) > 64 {
		return 0, errors.New("duration too long")
	}
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q: %s", orig, why)
	}
	if !strings.HasPrefix(s, "P") {
		return bad("must start with P")
	}
	s = s[1:]
	if s == "" {
		return bad("no components")
	}
	var total float64
	inTime, seen := false, false
	order := "WD"
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return bad("second T")
			}
			inTime, order, s = true, "HMS", s[1:]
			if s == "" {
				return bad("T without time components")
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return bad("expected a number followed by a unit")
		}
		num, unit := s[:i], s[i]
		s = s[i+1:]
		j := strings.IndexByte(order, unit)
		if j < 0 {
			return bad(fmt.Sprintf("unit %q not allowed here", unit))
		}
		order = order[j+1:]
		if strings.Contains(num, ".") && unit != 'S' {
			return bad("fractions are allowed on seconds only")
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsInf(v, 0) {
			return bad("bad number")
		}
		mult := map[byte]float64{'W': 7 * 86400, 'D': 86400, 'H': 3600, 'M': 60, 'S': 1}[unit]
		total += v * mult
		seen = true
	}
	if !seen {
		return bad("no components")
	}
	const maxSeconds = 10 * 365 * 86400
	if total <= 0 || total > maxSeconds {
		return bad("must be positive and at most ten years")
	}
	return time.Duration(total * float64(time.Second)), nil
}
