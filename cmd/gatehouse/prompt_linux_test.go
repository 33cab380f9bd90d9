//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's controller and its terminal.
func openPTY(t *testing.T) (ctrl, tty *os.File) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ctrl.Close() })
	n, err := unix.IoctlGetInt(int(ctrl.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(ctrl.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return ctrl, tty
}

// On a terminal the password prompt turns echo off, so the password typed
// never appears on the screen, and the login works.
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=cli-Admin-1"})
	defer p.stop(t)
	ctrl, tty := openPTY(t)
	cmd := exec.Command(binPath, "config", "credentials", "--server", p.base, "--realm", "master", "--user", "admin")
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_CONFIG="+filepath.Join(t.TempDir(), "config.json"))
	cmd.Stdin = tty
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prompt := bufio.NewReader(stderr)
	if _, err := prompt.ReadString(':'); err != nil { // "Enter password:"
		t.Fatal(err)
	}
	// The prompt is printed just before echo goes off: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo is still on while the CLI waits for the password")
		}
		<-tick.C
	}
	if _, err := ctrl.WriteString("cli-Admin-1\n"); err != nil {
		t.Fatal(err)
	}
	rest, _ := bufio.NewReader(prompt).ReadString(0)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v %s", err, rest)
	}
	if !strings.Contains(rest, "Logged into") {
		t.Errorf("stderr after the prompt: %q", rest)
	}
	tty.Close()
	var screen bytes.Buffer
	buf := make([]byte, 4096)
	_ = ctrl.SetReadDeadline(time.Now().Add(time.Second))
	for {
		n, err := ctrl.Read(buf)
		screen.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if strings.Contains(screen.String(), "cli-Admin-1") {
		t.Errorf("the terminal shows the password: %q", screen.String())
	}
}
