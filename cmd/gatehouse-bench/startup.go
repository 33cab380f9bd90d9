package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startupBench seeds n realms (ES256, each with a confidential client)
// through the admin API, restarts the server, and reports the time from
// process start to the first served token, the idle RSS, and the store size.
func startupBench(bin string, n int) error {
	dir, err := os.MkdirTemp("", "gatehouse-startup")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	start := func() (*exec.Cmd, string, time.Time, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, "", time.Time{}, err
		}
		cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data, "--log-level", "warn")
		cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_PASSWORD="+benchAdminPassword, benchManagementAddr)
		cmd.Stderr = os.Stderr
		t0 := time.Now()
		return cmd, "http://" + addr, t0, cmd.Start()
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	cmd, base, _, err := start()
	if err != nil {
		return err
	}
	waitReady(base)
	hc := &http.Client{Timeout: 30 * time.Second}
	tok := func() string {
		res, err := hc.PostForm(base+"/realms/master/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
			"client_id": {"admin-cli"}, "username": {"admin"}, "password": {benchAdminPassword}})
		if err != nil {
			return ""
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		s, _ := m["access_token"].(string)
		return s
	}
	admin, issued := tok(), time.Now()
	post := func(path, body string) error {
		if time.Since(issued) > 45*time.Second { // master tokens live 60 s
			admin, issued = tok(), time.Now()
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 201 {
			return fmt.Errorf("%s: %s", path, res.Status)
		}
		return nil
	}
	seedStart := time.Now()
	for i := range n {
		r := "r" + strconv.Itoa(i)
		if err := post("/admin/realms", `{"realm":"`+r+`","enabled":true,"defaultSignatureAlgorithm":"ES256"}`); err != nil {
			stop(cmd)
			return err
		}
		if err := post("/admin/realms/"+r+"/clients", `{"clientId":"app","secret":"app-secret-1234567","serviceAccountsEnabled":true}`); err != nil {
			stop(cmd)
			return err
		}
	}
	seeded := time.Since(seedStart)
	stop(cmd)
	st, _ := os.Stat(filepath.Join(data, "gatehouse.db"))

	cmd, base, t0, err := start()
	if err != nil {
		return err
	}
	defer stop(cmd)
	target := "r" + strconv.Itoa(n-1)
	for {
		req, _ := http.NewRequest(http.MethodPost, base+"/realms/"+target+"/protocol/openid-connect/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "app-secret-1234567")
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 30*time.Second {
			return fmt.Errorf("no token within 30 s of start")
		}
		time.Sleep(time.Millisecond)
	}
	first := time.Since(t0)
	time.Sleep(2 * time.Second)
	pid := cmd.Process.Pid
	fmt.Printf("| startup with %d realms | process start to first client_credentials token: %v | idle RSS after it: %.1f MB (heap and stacks %.1f MB, mapped binary and store pages %.1f MB) | store file: %.1f MB | seeding took %v |\n",
		n, first.Round(time.Millisecond), float64(procStatus(pid, "VmRSS"))/1024, float64(procStatus(pid, "RssAnon"))/1024,
		float64(procStatus(pid, "RssFile"))/1024, float64(st.Size())/(1<<20), seeded.Round(time.Second))
	return nil
}

func waitReady(base string) {
	for range 3000 {
		if res, err := http.Get(base + "/health/ready"); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procStatus is a field of /proc/<pid>/status in KiB (VmRSS, RssAnon,
// RssFile: the store is memory-mapped, so its touched pages count in RSS
// though the kernel can drop them at any time).
func procStatus(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
