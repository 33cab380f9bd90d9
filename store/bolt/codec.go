package bolt

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Sessions and refresh tokens are read twice and written three times per
// refresh, so they are stored in a compact binary form instead of JSON
// (in profiles of the refresh grant, JSON decoding and encoding of these two
// rows were a large share of the server's CPU; BENCHMARKS.md). Every other
// row stays JSON.
//
// A row starts with a tag byte, which the parsers check, so a row of
// another kind is an error rather than a wrong value. Layout after the tag:
// strings as uvarint length and bytes, times as varint Unix seconds and
// uvarint nanoseconds (UTC, as JSON round-trips them), integers as varints.
// A change of layout takes a new tag.
const (
	tagSession      byte = 0x01
	tagRefreshToken byte = 0x02
	// tagSessionIP is tagSession followed by the session's IP address.
	tagSessionIP byte = 0x03
)

var errBadRow = errors.New("malformed binary row")

func appendSession(b []byte, s store.Session) []byte {
	b = append(b, tagSessionIP)
	b = appendString(b, s.ID)
	b = appendString(b, s.ClientID)
	b = appendString(b, s.UserID)
	b = appendString(b, s.Scope)
	b = appendTime(b, s.AuthTime)
	b = appendTime(b, s.LastRefresh)
	b = appendTime(b, s.ExpiresAt)
	return appendString(b, s.IPAddress)
}

// parseSession reads both layouts: rows written before sessions kept an
// address (tagSession) stay readable, with no address.
func parseSession(b []byte, s *store.Session) error {
	withIP := len(b) > 0 && b[0] == tagSessionIP
	r := rowReader{b: b}
	if withIP {
		r.tag(tagSessionIP)
	} else {
		r.tag(tagSession)
	}
	*s = store.Session{ID: r.string(), ClientID: r.string(), UserID: r.string(), Scope: r.string(),
		AuthTime: r.time(), LastRefresh: r.time(), ExpiresAt: r.time()}
	if withIP {
		s.IPAddress = r.string()
	}
	return r.done()
}

func appendRefreshToken(b []byte, t store.RefreshToken) []byte {
	b = append(b, tagRefreshToken)
	b = appendString(b, t.Hash)
	b = appendString(b, t.SessionID)
	b = appendString(b, t.ClientID)
	b = appendString(b, t.UserID)
	b = appendString(b, t.Scope)
	b = appendTime(b, t.IssuedAt)
	b = appendTime(b, t.ExpiresAt)
	b = appendTime(b, t.UsedAt)
	return binary.AppendVarint(b, int64(t.UseCount))
}

func parseRefreshToken(b []byte, t *store.RefreshToken) error {
	r := rowReader{b: b}
	r.tag(tagRefreshToken)
	*t = store.RefreshToken{Hash: r.string(), SessionID: r.string(), ClientID: r.string(), UserID: r.string(),
		Scope: r.string(), IssuedAt: r.time(), ExpiresAt: r.time(), UsedAt: r.time(), UseCount: int(r.varint())}
	return r.done()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// rowReader decodes fields in order; the first error sticks and later
// fields read as zero values, so parsers check once at the end.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) tag(want byte) {
	if len(r.b) == 0 || r.b[0] != want {
		r.err = errBadRow
		return
	}
	r.b = r.b[1:]
}

func (r *rowReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }
func (r *rowReader) varint() int64   { return readVarint(r, binary.Varint) }

func readVarint[T uint64 | int64](r *rowReader, decode func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := decode(r.b)
	if n <= 0 {
		r.err = errBadRow
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rowReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadRow
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *rowReader) time() time.Time {
	sec, nsec := r.varint(), r.uvarint()
	if r.err != nil || nsec >= uint64(time.Second) {
		r.err = errBadRow
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *rowReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadRow
	}
	return r.err
}
