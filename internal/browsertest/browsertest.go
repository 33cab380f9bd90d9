package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds one Run (all its steps together) unless the test's
// deadline comes first. Generous: a CI machine under -race is slow, and a
// step that waits for an element never sleeps longer than it must.
const DefaultTimeout = 30 * time.Second

// Browser is one headless Chromium window driven by one test.
type Browser struct {
	// Timeout bounds each Run, Text, Get and similar call.
	Timeout time.Duration

	ctx  context.Context // the window's chromedp context; has run once
	name string          // test name, for the artifacts directory

	mu       sync.Mutex
	console  []string
	captured bool
}

// shots numbers artifacts across the windows of a test binary, so an
// incognito window's files never overwrite its opener's.
var shots atomic.Int32

// ChromiumPath returns the browser New would start, or "" when there is
// none: $GATEHOUSE_TEST_CHROMIUM when set (even if it does not exist: New
// then fails rather than quietly using another browser), else Debian's
// /usr/bin/chromium, else the first of the usual names on PATH.
func ChromiumPath() string {
	return lookChromium(os.Getenv("GATEHOUSE_TEST_CHROMIUM"), "/usr/bin/chromium",
		"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
}

func lookChromium(explicit, debian string, names ...string) string {
	if explicit != "" {
		return explicit
	}
	if fi, err := os.Stat(debian); err == nil && !fi.IsDir() {
		return debian
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// missingBrowser is the skip (or, under CI, failure) message.
const missingBrowser = "CHROMIUM NOT FOUND: the browser tests need headless Chromium. " +
	"Install Debian's package (`apt-get install -y chromium`, which .ci/run does) " +
	"or point GATEHOUSE_TEST_CHROMIUM at a Chromium/Chrome binary."

// noBrowser skips t loudly, or fails it under CI: a CI machine that lost
// its browser must not go green by skipping every browser test.
func noBrowser(t testing.TB, ci bool) {
	t.Helper()
	if ci {
		t.Fatal(missingBrowser + " (CI is set, so this fails instead of skipping)")
		return
	}
	t.Skip(missingBrowser)
}

// New starts a headless Chromium for t with a fresh profile and returns its
// window. The browser ends when t ends (after artifacts are written if t
// failed).
func New(t testing.TB) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped under -short")
	}
	path := ChromiumPath()
	if path == "" {
		noBrowser(t, os.Getenv("CI") != "")
		return nil // only a fake TB gets here
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("browsertest: GATEHOUSE_TEST_CHROMIUM: %v", err)
	}
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		// Tests talk to loopback servers only: a proxy from the
		// environment must not see (or break) that traffic.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout (that
	// would end the browser with it), so a bound is applied by racing it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browsertest: starting %s: %v", path, err)
		}
	case <-time.After(DefaultTimeout):
		t.Fatalf("browsertest: %s did not start within %v", path, DefaultTimeout)
	}
	return attach(t, ctx)
}

// Incognito opens a second window in b's browser with its own cookies and
// storage (a new browser context): a second user, or the same user after
// clearing everything. It closes when t ends.
func (b *Browser) Incognito(t testing.TB) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browsertest: opening an incognito window: %v", err)
	}
	return attach(t, ctx)
}

// attach wraps a started window: console collection and the
// failure-artifacts hook (registered after the browser's own cleanup, so it
// runs while the browser still lives).
func attach(t testing.TB, ctx context.Context) *Browser {
	b := &Browser{Timeout: DefaultTimeout, ctx: ctx, name: t.Name()}
	msgs := chromedp.Console(ctx)
	// Ends with the window's context (the browser's cleanup).
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			line := m.String()
			if m.URL != "" {
				line += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			b.mu.Lock()
			b.console = append(b.console, line)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.capture(t, "at-failure")
		}
	})
	return b
}

// ConsoleMessages returns what the page has written to its console so far
// (console.* calls, uncaught exceptions, browser log entries), oldest
// first.
func (b *Browser) ConsoleMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Context returns the window's chromedp context for calls this package
// does not wrap (chromedp.Run(ctx, ...)). Derive timeouts from it; never
// cancel it.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs the steps in order in b's window and fails t (with artifacts)
// on the first error.
func (b *Browser) Run(t testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	Get(t, b, chromedp.Steps(steps...))
}

// Get runs one action that returns a value (chromedp.Text, Location,
// Evaluate, ...) and fails t (with artifacts) on error.
func Get[T any](t testing.TB, b *Browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := b.stepContext(t)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		dir := b.capture(t, "step-failed")
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (after %v: an element never appeared or a page never loaded)", err, b.Timeout)
		}
		t.Fatalf("browsertest: %v\nurl: %s\nartifacts: %s\nconsole:\n%s", err, b.location(), dir, strings.Join(b.ConsoleMessages(), "\n"))
	}
	return v
}

// stepContext bounds one call by b.Timeout and by the test's deadline.
func (b *Browser) stepContext(t testing.TB) (context.Context, context.CancelFunc) {
	d := b.Timeout
	if tt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := tt.Deadline(); ok {
			// Leave time for the artifacts and the test's report.
			if left := time.Until(dl) - 5*time.Second; left > 0 && left < d {
				d = left
			}
		}
	}
	return context.WithTimeout(b.ctx, d)
}

// Text waits for the element matching the CSS selector to be visible and
// returns its text as rendered (innerText, trimmed).
func (b *Browser) Text(t testing.TB, css string) string {
	t.Helper()
	return strings.TrimSpace(Get(t, b, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// Value returns the current value of the input matching the CSS selector.
func (b *Browser) Value(t testing.TB, css string) string {
	t.Helper()
	return Get(t, b, chromedp.Value(chromedp.CSS(css), chromedp.NodeReady))
}

// Location returns the window's current URL.
func (b *Browser) Location(t testing.TB) string {
	t.Helper()
	return Get(t, b, chromedp.Location())
}

// Focused describes the element that has the keyboard focus: its id, or
// its tag name (lower case) when it has none; for keyboard-only tests.
func (b *Browser) Focused(t testing.TB) string {
	t.Helper()
	return Get(t, b, chromedp.Evaluate[string](`(e => e ? (e.id || e.tagName.toLowerCase()) : "")(document.activeElement)`))
}

// Screenshot returns a PNG of the visible viewport.
func (b *Browser) Screenshot(t testing.TB) []byte {
	t.Helper()
	return Get(t, b, chromedp.CaptureScreenshot())
}

// Fill waits for the input matching the CSS selector, empties it and types
// value into it with key events (as a user would, so input handlers run).
func Fill(css, value string) chromedp.Action[chromedp.Void] {
	sel := chromedp.CSS(css)
	q, _ := json.Marshal(css)
	return chromedp.Steps(
		chromedp.WaitVisible(sel),
		// chromedp.SetValue refuses an empty value, so empty it here.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(e => { e.value = ""; return true })(document.querySelector(`+string(q)+`))`)(ctx, t)
			return err
		}),
		chromedp.SendKeys(sel, value),
	)
}

// Click waits for the element matching the CSS selector to be visible and
// clicks it with the mouse.
func Click(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(css))
}

// WaitVisible waits until an element matching the CSS selector is visible.
func WaitVisible(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(css))
}

// WaitGone waits until no element matches the CSS selector.
func WaitGone(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotPresent(chromedp.CSS(css))
}

// WaitText waits until the element matching the CSS selector exists and its
// rendered text contains substr (for pages that fill in text after load).
func WaitText(css, substr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.PollFunction[bool](
		`(sel, want) => { const e = document.querySelector(sel); return !!e && e.innerText.includes(want); }`,
		chromedp.WithPollingArgs(css, substr), chromedp.WithPollingTimeout(0),
	)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			_, err := poll(ctx, t)
			// A navigation (the click before this step submitted a form)
			// ends the poll in the old page: poll again in the new one.
			if err == nil || ctx.Err() != nil || !pageChanged(err) {
				return err
			}
		}
	})
}

// pageChanged reports whether err means the page an evaluation ran in went
// away (navigation), rather than a real failure.
func pageChanged(err error) bool {
	msg := err.Error()
	for _, m := range []string{"navigated or closed", "Execution context was destroyed", "Cannot find context with specified id", "Not attached to an active page"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// location is the URL for a failure message; best effort.
func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return u
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// capture writes a screenshot, the page's HTML and the console to the
// artifacts directory and returns that directory; best effort (a dead
// browser still yields the console). After the first capture of a window,
// a later one (the cleanup's after a failed step) is skipped: the first
// shows the failure.
func (b *Browser) capture(t testing.TB, label string) string {
	b.mu.Lock()
	if b.captured {
		b.mu.Unlock()
		return "(captured above)"
	}
	b.captured = true
	b.mu.Unlock()
	n := shots.Add(1)

	dir, err := artifactsDir(b.name)
	if err != nil {
		t.Logf("browsertest: no artifacts directory: %v", err)
		return "(none)"
	}
	prefix := filepath.Join(dir, fmt.Sprintf("%02d-%s", n, label))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(prefix+".png", png, 0o644)
	} else {
		t.Logf("browsertest: screenshot: %v", err)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"), chromedp.NodeReady)); err == nil {
		_ = os.WriteFile(prefix+".html", []byte(html), 0o644)
	} else {
		t.Logf("browsertest: page HTML: %v", err)
	}
	_ = os.WriteFile(prefix+"-console.txt", []byte(strings.Join(b.ConsoleMessages(), "\n")+"\n"), 0o644)
	t.Logf("browsertest: screenshot, HTML and console of the failing page in %s", dir)
	return dir
}

// artifactsDir is $GATEHOUSE_TEST_ARTIFACTS/<test>, else a new temporary
// directory that outlives the test (t.TempDir would be removed with it).
func artifactsDir(test string) (string, error) {
	name := unsafeName.ReplaceAllString(test, "_")
	if root := os.Getenv("GATEHOUSE_TEST_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, name)
		return dir, os.MkdirAll(dir, 0o755)
	}
	return os.MkdirTemp("", "gatehouse-browsertest-"+name+"-")
}
