package bench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAJPConfigValidate(t *testing.T) {
	if err := DefaultAJPConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultAJPConfig()
	c.ModJK = "ajp://127.0.0.1:8009"
	if err := c.Validate(); !errors.Is(err, ErrConfig) {
		t.Fatalf("non-http front end URL: %v", err)
	}
}

func TestAddAJPConnector(t *testing.T) {
	file := filepath.Join(t.TempDir(), "server.xml")
	os.WriteFile(file, []byte("<Server>\n  <Service>\n    <Connector port=\"8080\"/>\n    <Engine name=\"Catalina\"/>\n  </Service>\n</Server>\n"), 0o644)
	if err := addAJPConnector(file, 18009); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), `<Connector protocol="AJP/1.3" port="18009" address="127.0.0.1" secret="`+ajpSecret+`"/>`+"\n    <Engine ") {
		t.Fatalf("no AJP connector before the Engine:\n%s", b)
	}
	os.WriteFile(file, []byte("<Server/>"), 0o644)
	if err := addAJPConnector(file, 18009); err == nil {
		t.Fatal("a server.xml without an Engine accepted")
	}
}
