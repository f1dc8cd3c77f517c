package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// target is one thing to measure in interleaved rounds.
type target struct {
	name  string
	newOp func(worker int) (Op, error)
}

// interleave measures every target for total time each, in rounds of
// about round: round 1 runs target A then B then C, round 2 starts with B,
// and so on, so that drift of the machine (other load, heat, GC of a
// long-lived node) spreads over all of them. Each target first gets a
// warmup run whose figures are dropped. Results are in targets' order.
func interleave(ctx context.Context, ts []target, conc int, total, round, warmup time.Duration, progress io.Writer) ([]*Result, error) {
	rounds := max(int((total+round-1)/round), 1)
	per := total / time.Duration(rounds)
	out := make([]*Result, len(ts))
	for i, t := range ts {
		out[i] = &Result{}
		if warmup > 0 {
			if _, err := Run(ctx, Load{Concurrency: conc, Duration: warmup}, t.newOp); err != nil {
				return nil, fmt.Errorf("%s warmup: %w", t.name, err)
			}
		}
	}
	for r := range rounds {
		for k := range ts {
			i := (r + k) % len(ts)
			res, err := Run(ctx, Load{Concurrency: conc, Duration: per}, ts[i].newOp)
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", ts[i].name, r+1, err)
			}
			fmt.Fprintf(progress, "bench: round %d/%d %-16s %s\n", r+1, rounds, ts[i].name, throughputValue(res))
			out[i].Merge(res)
		}
	}
	return out, nil
}
