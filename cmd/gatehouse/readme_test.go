package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one fenced ```sh block of README.md.
type readmeBlock struct {
	n     int // 1-based, in README order
	line  int // README line of the block's first command line
	lines []string
}

// readmeBlocks returns the README's ```sh blocks in order. Other fences
// (```console for the long-running server, ```text, ...) are not run.
func readmeBlocks(readme []byte) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for ln := 1; sc.Scan(); ln++ {
		text := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(text) == "```sh":
			blocks = append(blocks, readmeBlock{n: len(blocks) + 1, line: ln + 1})
			cur = &blocks[len(blocks)-1]
		case cur != nil && strings.HasPrefix(strings.TrimSpace(text), "```"):
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, text)
		}
	}
	return blocks
}

// readmeAssignment matches a README line that keeps a server answer in a
// variable: NAME=$(...).
var readmeAssignment = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=\$\(`)

// readmeDefaultBase is the address the README's examples use; the test's
// server listens elsewhere and the examples are pointed at it.
const readmeDefaultBase = "http://127.0.0.1:8080"

// readmeScript joins the blocks into one bash script, so the variables a
// block defines reach the next ones exactly as in a reader's terminal. It
// returns the script and, per script line, the README line it came from
// (0 for lines the test added).
func readmeScript(blocks []readmeBlock, base string) (string, []int) {
	var b strings.Builder
	var origin []int
	add := func(readmeLine int, s string) {
		b.WriteString(s)
		b.WriteByte('\n')
		origin = append(origin, readmeLine)
	}
	// -u: a variable the README never set fails instead of expanding to
	// nothing; curl fails on an HTTP error status and still shows the body.
	add(0, "set -Eeuo pipefail")
	add(0, `trap 'echo "README_FAILED script_line=$LINENO: $BASH_COMMAND" >&2' ERR`)
	add(0, `curl() { command curl --fail-with-body "$@"; }`)
	add(0, `readme_check() { case "${!1-}" in ""|null) echo "README_FAILED block $2: \$$1 is empty or null after the block" >&2; exit 1;; esac; }`)
	for _, bl := range blocks {
		add(0, fmt.Sprintf("echo '>>> README block %d (line %d)' >&2", bl.n, bl.line))
		var assigned []string
		for i, l := range bl.lines {
			add(bl.line+i, strings.ReplaceAll(l, readmeDefaultBase, base))
			if m := readmeAssignment.FindStringSubmatch(l); m != nil && !strings.Contains(strings.Join(assigned, " "), m[1]) {
				assigned = append(assigned, m[1])
			}
		}
		// Every answer the README keeps must be a real one: "null" is what
		// jq -r prints for a field the server did not send.
		for _, v := range assigned {
			add(0, fmt.Sprintf("readme_check %s %d", v, bl.n))
		}
	}
	return b.String(), origin
}

// Every ```sh example of the README runs, in order, as written, against a
// fresh server built from this tree: a variable, client, user or password
// an example uses must have been set up by an earlier one, every curl call
// must get a 2xx answer, and every token or id the README keeps in a
// variable must be non-empty. The examples run with bash, curl and jq (the
// README's requirements) and the gatehouse binary on PATH, at the top of the
// repository as the README says (its signing example runs `go run
// ./testdata/...`), with a HOME of its own.
func TestREADMEExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README examples need bash, curl and jq", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(readme)
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d ```sh blocks; the test expects the quickstart, admin and Knox examples", len(blocks))
	}
	// The server is started as the README says: the password comes from its
	// `GATEHOUSE_ADMIN_PASSWORD=... make run` line.
	m := regexp.MustCompile(`GATEHOUSE_ADMIN_PASSWORD=(\S+) make run`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md no longer says how to start the server: `GATEHOUSE_ADMIN_PASSWORD=... make run` not found")
	}
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_USER=", "GATEHOUSE_ADMIN_PASSWORD=" + string(m[1])})

	script, origin := readmeScript(blocks, p.base)
	work := t.TempDir()
	path := filepath.Join(work, "readme.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	top, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = top
	cmd.Env = []string{"PATH=" + filepath.Dir(binPath) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + work, "LANG=C.UTF-8"}
	// go run in the examples uses the caller's build and module caches, not
	// empty ones under the test's HOME.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		cmd.Env = append(cmd.Env, v+"="+strings.TrimSpace(string(out)))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err != nil || strings.Contains(stderr.String(), "README_FAILED") {
		t.Fatalf("README examples failed (%v)\n%s\n--- output of the examples:\n%s\n--- stderr:\n%s\n--- server log:\n%s",
			err, readmeFailure(stderr.String(), origin, readme, blocks), stdout.String(), stderr.String(), p.logs())
	}
	t.Logf("%d README blocks ran", len(blocks))
}

// readmeFailure names the README line of the command that failed, from the
// script line bash reported (the ERR trap, or bash's own "line N:" message
// for an unset variable).
func readmeFailure(stderr string, origin []int, readme []byte, blocks []readmeBlock) string {
	lines := strings.Split(string(readme), "\n")
	re := regexp.MustCompile(`(?:script_line=|readme\.sh: line )(\d+)`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > len(origin) || origin[n-1] == 0 {
			continue
		}
		rl := origin[n-1]
		block := 0
		for _, b := range blocks {
			if rl >= b.line {
				block = b.n
			}
		}
		out = append(out, fmt.Sprintf("failed at README.md:%d (```sh block %d): %s", rl, block, strings.TrimSpace(lines[rl-1])))
	}
	if len(out) == 0 {
		return "(no README line identified; see the stderr below)"
	}
	return strings.Join(out, "\n")
}

// Ctrl-C on `make run` (SIGINT to the terminal's whole process group: make
// and the server) stops the server gracefully and make prints no error.
// The already built test binary stands in for `make build`'s.
func TestMakeRunStopsQuietlyOnCtrlC(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	addr := freePort(t)
	cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "-o", "build", "BIN="+binPath, "run")
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADDR="+addr, "GATEHOUSE_DATA="+t.TempDir(),
		"GATEHOUSE_ADMIN_USER=", "GATEHOUSE_ADMIN_PASSWORD=Make-Run-1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &watchedOutput{marker: "gatehouse listening", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var err error
	exited := make(chan struct{})
	go func() { err = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	select {
	case <-out.seen:
	case <-exited:
		t.Fatalf("make run ended before the server listened: %v\n%s", err, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("make run: no server listening after 30 s\n%s", out)
	}
	// The listener is bound before that line, so this request is served.
	resp, getErr := http.Get("http://" + addr + "/health/ready")
	if getErr != nil {
		t.Fatalf("make run: %v\n%s", getErr, out)
	}
	resp.Body.Close()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30 s after Ctrl-C\n%s", out)
	}
	// make re-raises the SIGINT on itself once its child has exited, so it
	// ends by that signal (or with 0), never with an error status of its own.
	// GNU make 4.3 sometimes loses the race between its own SIGINT handler
	// and reaping the server it waits for, and then reports "wait: No child
	// processes" (exit 2) after the server has already shut down cleanly:
	// that is make's, not the recipe's, so only other errors count.
	const makeWaitRace = "make: *** wait: No child processes.  Stop."
	lostRace := strings.Contains(out.String(), makeWaitRace)
	if ee, ok := err.(*exec.ExitError); ok {
		ws := ee.Sys().(syscall.WaitStatus)
		if !lostRace && (!ws.Signaled() || ws.Signal() != syscall.SIGINT) {
			t.Errorf("make run ended with %v, want death by SIGINT or exit 0", err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	o := strings.ReplaceAll(out.String(), makeWaitRace, "")
	if strings.Contains(o, "make: ***") || !strings.Contains(o, "shutting down") {
		t.Errorf("Ctrl-C on make run: want a graceful shutdown and no make error, got:\n%s", o)
	}
}

// watchedOutput collects a process's output and closes seen once marker
// has appeared in it.
type watchedOutput struct {
	mu     sync.Mutex
	b      bytes.Buffer
	marker string
	seen   chan struct{}
	closed bool
}

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if !w.closed && bytes.Contains(w.b.Bytes(), []byte(w.marker)) {
		w.closed = true
		close(w.seen)
	}
	return n, err
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
