//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Environment shared by every test of the package, set up once by TestMain.
var (
	gomcatBin string // path of the -race build of ./cmd/gomcat ("" when not built)
	buildErr  error  // why the build failed, reported by every test that needs it
	envReason string // why this environment cannot run e2e tests ("" when it can)
)

// requireEnvVar set to "require" turns every skip into a failure (CI sets it).
const requireEnvVar = "GOMCAT_E2E"

func TestMain(m *testing.M) {
	flag.Parse() // testing.Verbose needs it
	envReason = checkEnv()
	if envReason == "" {
		cleanupLeftovers(true)
		dir, err := os.MkdirTemp("", "gomcat-e2e-bin-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: temp dir: %v\n", err)
			os.Exit(1)
		}
		gomcatBin, buildErr = buildGomcat(dir)
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// checkEnv returns why e2e tests cannot run here, or "".
func checkEnv() string {
	if os.Geteuid() != 0 {
		return "e2e: needs root for network namespaces"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "e2e: needs iproute2 (ip) for network namespaces"
	}
	return ""
}

// requireE2E skips the test when the environment cannot run e2e tests, or
// fails it when GOMCAT_E2E=require. Every e2e test calls it first (NewNet does).
func requireE2E(t testing.TB) {
	t.Helper()
	if envReason == "" {
		return
	}
	if os.Getenv(requireEnvVar) == "require" {
		t.Fatalf("%s (and %s=require)", envReason, requireEnvVar)
	}
	t.Skip(envReason)
}

// skipOrFail skips with reason, or fails under GOMCAT_E2E=require.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(requireEnvVar) == "require" {
		t.Fatalf("%s (and %s=require)", reason, requireEnvVar)
	}
	t.Skip(reason)
}

// Binary returns the path of the gomcat binary built by TestMain with -race;
// it fails the test when the build failed.
func Binary(t testing.TB) string {
	t.Helper()
	requireE2E(t)
	if buildErr != nil {
		t.Fatalf("e2e: gomcat binary did not build: %v", buildErr)
	}
	return gomcatBin
}

// buildGomcat builds ./cmd/gomcat with -race into dir and returns its path.
func buildGomcat(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "gomcat")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-race", "-o", out, "./cmd/gomcat")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build -race ./cmd/gomcat failed: %v\n%s", err, buf.String())
		return "", fmt.Errorf("go build -race ./cmd/gomcat: %v: %s", err, strings.TrimSpace(buf.String()))
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", out, time.Since(start).Round(time.Millisecond))
	}
	return out, nil
}

// moduleRoot is the directory holding go.mod (the parent of tests/).
func moduleRoot() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// goTool finds the go command: PATH first, then GOROOT/bin.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}
