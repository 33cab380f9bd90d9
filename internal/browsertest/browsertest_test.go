package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A page with a form whose script greets the submitted name, and a
// cookie counter: enough to prove typing, clicking, waiting for text a
// script writes, and that windows are isolated.
func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>next</title><h1>Next page</h1>`)
	})
	// Only "/" counts a visit: the browser's own /favicon.ico request also
	// carries the cookie and, landing between two navigations, would count.
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		visits := 0
		if c, err := r.Cookie("visits"); err == nil {
			fmt.Sscan(c.Value, &visits)
		}
		visits++
		http.SetCookie(w, &http.Cookie{Name: "visits", Value: fmt.Sprint(visits), Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>site</title>
<p id="visits">%d</p>
<form id="f"><label for="name">Name</label><input id="name" value="prefilled"><button id="go" type="submit">Go</button></form>
<p id="out"></p>
<h1>Start</h1><form method="get" action="/next"><button id="next" type="submit">Next</button></form>
<script>
console.log("page-ready");
document.getElementById("f").addEventListener("submit", e => {
  e.preventDefault();
  setTimeout(() => { document.getElementById("out").textContent = "Hello " + document.getElementById("name").value; }, 50);
});
</script>`, visits)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserFillsClicksAndReadsScriptWrittenText(t *testing.T) {
	srv := newSite(t)
	b := New(t)
	b.Run(t,
		chromedp.Navigate(srv.URL+"/"),
		Fill("#name", "Alice"),
		Click("#go"),
		WaitText("#out", "Hello"),
	)
	if got := b.Text(t, "#out"); got != "Hello Alice" {
		t.Errorf("text = %q, want Hello Alice (Fill must replace the prefilled value)", got)
	}
	if got := b.Focused(t); got != "go" {
		t.Errorf("focus after the click on #go: %q", got)
	}
	if got := b.Value(t, "#name"); got != "Alice" {
		t.Errorf("value = %q", got)
	}
	if got := b.Location(t); got != srv.URL+"/" {
		t.Errorf("location = %q", got)
	}
	if png := b.Screenshot(t); !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if msgs := strings.Join(b.ConsoleMessages(), "\n"); !strings.Contains(msgs, "page-ready") {
		t.Errorf("console = %q", msgs)
	}
}

// WaitText started while a click's navigation is under way keeps waiting
// in the page that loads.
func TestWaitTextFollowsANavigation(t *testing.T) {
	srv := newSite(t)
	b := New(t)
	b.Run(t,
		chromedp.Navigate(srv.URL+"/"),
		WaitText("h1", "Start"),
		Click("#next"),
		WaitText("h1", "Next page"),
	)
	if got := b.Location(t); got != srv.URL+"/next?" {
		t.Errorf("location = %q", got)
	}
}

func TestIncognitoWindowHasItsOwnCookies(t *testing.T) {
	srv := newSite(t)
	b := New(t)
	b.Run(t, chromedp.Navigate(srv.URL+"/"), chromedp.Navigate(srv.URL+"/"))
	if got := b.Text(t, "#visits"); got != "2" {
		t.Fatalf("second visit in one window counted %q", got)
	}
	other := b.Incognito(t)
	other.Run(t, chromedp.Navigate(srv.URL+"/"))
	if got := other.Text(t, "#visits"); got != "1" {
		t.Errorf("incognito window saw the first window's cookie: visits %q", got)
	}
}

// recordingTB records what a failing helper reports instead of ending the
// test, so the failure path itself can be checked.
type recordingTB struct {
	testing.TB
	fatal   []string
	skipped []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatal(args ...any) {
	r.fatal = append(r.fatal, fmt.Sprint(args...))
}
func (r *recordingTB) Fatalf(f string, args ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(f, args...))
}
func (r *recordingTB) Skip(args ...any) {
	r.skipped = append(r.skipped, fmt.Sprint(args...))
}

func TestFailedStepWritesScreenshotHTMLAndConsole(t *testing.T) {
	root := t.TempDir()
	t.Setenv("GATEHOUSE_TEST_ARTIFACTS", root)
	srv := newSite(t)
	b := New(t)
	b.Run(t, chromedp.Navigate(srv.URL+"/"), WaitVisible("#out"))
	b.Timeout = time.Second // the element below never appears
	rec := &recordingTB{TB: t}
	b.Run(rec, WaitVisible("#never-there"))
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "deadline") || !strings.Contains(rec.fatal[0], srv.URL) {
		t.Fatalf("failure report = %q", rec.fatal)
	}
	dir := filepath.Join(root, "TestFailedStepWritesScreenshotHTMLAndConsole")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var png, html, console []byte
	for _, f := range files {
		data, _ := os.ReadFile(f)
		switch {
		case strings.HasSuffix(f, "-console.txt"):
			console = data
		case strings.HasSuffix(f, ".png"):
			png = data
		case strings.HasSuffix(f, ".html"):
			html = data
		}
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("no PNG screenshot in %v", files)
	}
	if !bytes.Contains(html, []byte(`id="visits"`)) {
		t.Errorf("page HTML missing or wrong: %q", html)
	}
	if !bytes.Contains(console, []byte("page-ready")) {
		t.Errorf("console log missing: %q", console)
	}
}

func TestMissingChromiumSkipsLocallyAndFailsUnderCI(t *testing.T) {
	if got := lookChromium("", "/nonexistent/chromium", "no-such-browser-gatehouse"); got != "" {
		t.Fatalf("lookChromium found %q", got)
	}
	if got := lookChromium("/opt/x/chrome", "/usr/bin/chromium"); got != "/opt/x/chrome" {
		t.Errorf("explicit path not preferred: %q", got)
	}
	local := &recordingTB{TB: t}
	noBrowser(local, false)
	if len(local.skipped) != 1 || len(local.fatal) != 0 || !strings.Contains(local.skipped[0], "apt-get install -y chromium") {
		t.Errorf("without CI: skipped %q, fatal %q", local.skipped, local.fatal)
	}
	ci := &recordingTB{TB: t}
	noBrowser(ci, true)
	if len(ci.fatal) != 1 || len(ci.skipped) != 0 || !strings.Contains(ci.fatal[0], "CI is set") {
		t.Errorf("under CI: skipped %q, fatal %q", ci.skipped, ci.fatal)
	}
}
