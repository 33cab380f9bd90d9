package admin

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// backup is GET /admin/backup: the whole store as one consistent file, for
// master admins only (it holds every realm's sealed secrets). Restoring also
// needs the master key.
func (a *API) backup(w http.ResponseWriter, r *http.Request) error {
	if !callerOf(r).masterAdmin {
		return errForbidden
	}
	b, ok := a.svc.Backuper()
	if !ok {
		return &apiError{http.StatusNotImplemented, "This store cannot be backed up online"}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="gatehouse-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Trailer", "X-Backup-Bytes")
	// The copy is streamed from a read transaction; writers are not blocked.
	n, err := b.Backup(&deadlineWriter{w: w, rc: http.NewResponseController(w)})
	if err != nil {
		// Headers are gone; without the X-Backup-Bytes trailer the CLI
		// knows the copy is incomplete.
		a.log.Error("admin: backup failed", "bytes", n, "err", err)
		return nil
	}
	w.Header().Set("X-Backup-Bytes", strconv.FormatInt(n, 10))
	a.audit(r, callerOf(r).token.Realm.ID, "ACTION", "REALM", "backup", nil)
	return nil
}

// backupStall bounds how long one write of a backup may wait for the client.
// A whole backup may take longer than the server's write timeout (a large
// store, a slow link): each write moves the deadline instead, so only a
// client that stops reading is cut off.
const backupStall = 30 * time.Second

// deadlineWriter extends the connection's write deadline before each write.
// The deadline is on the network's clock, so it reads the wall clock.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(backupStall)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return d.w.Write(p)
}
