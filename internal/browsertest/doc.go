// Package browsertest runs end-to-end tests in a real headless Chromium
// (Debian's chromium package) through the DevTools protocol (chromedp).
//
// Each New(t) starts its own browser with a throw-away profile and ends it
// when the test ends: a test never sees another test's cookies, and tests
// may run in parallel. Starting a browser costs well under a second here;
// Incognito gives a second, cookie-isolated window in the same browser for
// less.
//
//	b := browsertest.New(t)
//	b.Run(t,
//		chromedp.Navigate(srv.URL+"/login"),
//		browsertest.Fill("#username", "alice"),
//		browsertest.Fill("#password", "secret"),
//		browsertest.Click("#kc-login"),
//		browsertest.WaitVisible("#greeting"),
//	)
//	if got := b.Text(t, "#greeting"); got != "Hello Alice" { ... }
//
// Nothing sleeps: every step waits for the element it needs, bounded by
// Browser.Timeout (and the test's own deadline). When a step fails, or the
// test fails later, a screenshot, the page's HTML and the page's console
// are written to $GATEHOUSE_TEST_ARTIFACTS/<test name> (else to a new
// temporary directory, kept and logged).
//
// The browser is $GATEHOUSE_TEST_CHROMIUM, else /usr/bin/chromium, else
// chromium (or a Chrome) on PATH. Without one the test skips, saying which
// package to install; when CI is set it fails instead, so a CI machine that
// lost its browser cannot pass by skipping. `-short` skips browser tests.
package browsertest
