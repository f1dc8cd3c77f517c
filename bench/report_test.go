package bench

import (
	"strings"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 ns"},
		{999, "999 ns"},
		{1234, "1.23 µs"},
		{87_300, "87.3 µs"},
		{999_400, "999 µs"},
		{1_420_000, "1.42 ms"},
		{123_456_789, "123 ms"},
		{2_050_000_000, "2.05 s"},
		{90 * time.Second, "90.0 s"},
		{1500 * time.Second, "1500 s"},
	}
	for _, tc := range tests {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatCountRateBytes(t *testing.T) {
	counts := map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45678: "-45,678"}
	for n, want := range counts {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
	if got := FormatRate(12345.6); got != "12,346 req/s" {
		t.Errorf("FormatRate = %q", got)
	}
	sizes := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 4300: "4.2 KiB",
		431 << 20: "431 MiB", 3 << 30: "3.0 GiB", -2048: "-2.0 KiB"}
	for n, want := range sizes {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReportTable(t *testing.T) {
	r := &Report{Title: "gomcat bench test", Command: "gomcat bench x --duration 1s",
		Machine: Machine{CPUs: 2, Model: "Some CPU", Go: "go1.26", OS: "linux/amd64"}}
	r.Add("throughput", Row{Metric: "standalone", Value: "10,000 req/s"})
	r.Add("latency", Row{Metric: "a → b", Value: "p99 1.00 ms", Goal: "p99 ≤ 2 ms", Verdict: verdict(true)})
	r.Add("throughput", Row{Metric: "clustered", Value: "9,000 req/s", Goal: "≤ 15 %", Verdict: verdict(false)})
	r.Note("first note %d", 1)
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `gomcat bench test
command  gomcat bench x --duration 1s
machine  2 CPUs · Some CPU · linux/amd64 · go1.26

METRIC        VALUE         GOAL
throughput
  standalone  10,000 req/s
  clustered   9,000 req/s   ≤ 15 %  MISSED
latency
  a → b       p99 1.00 ms   p99 ≤ 2 ms  ok

- first note 1
`
	if got := b.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if r.Missed() != 1 {
		t.Errorf("Missed = %d, want 1", r.Missed())
	}
}
