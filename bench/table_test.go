package bench

import (
	"bytes"
	"strings"
	"testing"
)

// summarize finds issue 14's rows in the benches' reports by their metric
// names: if a bench renames a row, this test (not a silent gap) says so.
func TestSummarize(t *testing.T) {
	rep := func(rows ...Row) *Report { return &Report{Sections: []Section{{Name: "x", Rows: rows}}} }
	reps := map[string]*Report{
		"async": rep(Row{Metric: "standalone", Value: "16,000 req/s · p50 1 ms"}, Row{Metric: "node1 (+node2)", Value: "14,400 req/s · p50 1 ms"},
			Row{Metric: "this binary vs the baseline binary", Value: "1.14× (a vs b)"}),
		"sync": rep(Row{Metric: "standalone", Value: "10,000 req/s"}, Row{Metric: "node1 (+node2)", Value: "6,000 req/s"}),
		"start10k": rep(Row{Metric: "joining node: process start → /count == 10,000 (after)", Value: "117 ms"},
			Row{Metric: "lone cluster node: process start → first HTTP 200 (after)", Value: "220 ms"}),
		"start100k": rep(Row{Metric: `joining node's log "received in" (after)`, Value: "826 ms"},
			Row{Metric: "joining node: process start → /count == 100,000 (after)", Value: "846 ms"}),
		"memory": rep(Row{Metric: "node1 (created the sessions), value 1.0 KiB (after)", Value: "4.2 KiB"},
			Row{Metric: "node2 (holds them by replication), value 1.0 KiB (after)", Value: "1.8 KiB"}),
		"balancer": rep(Row{Metric: "direct", Value: "18,000 req/s · p50"}, Row{Metric: "balancer", Value: "9,000 req/s · p50"},
			Row{Metric: "haproxy", Value: "12,000 req/s · p50"}),
	}
	var out bytes.Buffer
	if _, err := summarize(reps).WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"14,400 req/s = 90 % of 16,000 req/s · 1.14× before", "6,000 req/s = 60 % of 10,000 req/s",
		"826 ms", "846 ms", "117 ms", "220 ms", "4.2 KiB", "1.8 KiB", "gomcat balancer 9,000 req/s vs HAProxy 12,000 req/s (75 %) vs direct 18,000 req/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Count(out.String(), "\n  ") != 9 {
		t.Errorf("want 9 rows:\n%s", out.String())
	}
}

func TestTableParsing(t *testing.T) {
	if leadingNumber("14,232 req/s") != 14232 || leadingNumber("1.5 s") != 1.5 || leadingNumber("x") != 0 || firstField("a · b") != "a" {
		t.Fatal("parsing helpers")
	}
}
