package lifecycle

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestGroupOrder(t *testing.T) {
	var log []string
	step := func(name string, fail bool) Step {
		return Step{Name: name, Component: Funcs{
			OnStart: func(context.Context) error {
				log = append(log, "start "+name)
				if fail {
					return errors.New("boom")
				}
				return nil
			},
			OnStop: func(context.Context) error { log = append(log, "stop "+name); return nil },
		}}
	}
	t.Run("ok", func(t *testing.T) {
		log = nil
		g := NewGroup(step("a", false), step("b", false))
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := g.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := g.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{"start a", "start b", "stop b", "stop a"}
		if !reflect.DeepEqual(log, want) {
			t.Fatalf("got %v want %v", log, want)
		}
		if err := g.Start(context.Background()); !errors.Is(err, ErrStarted) {
			t.Fatalf("restart: %v", err)
		}
	})
	t.Run("failure rolls back", func(t *testing.T) {
		log = nil
		g := NewGroup(step("a", false), step("b", true), step("c", false))
		err := g.Start(context.Background())
		if err == nil || err.Error() != "start b: boom" {
			t.Fatalf("err = %v", err)
		}
		want := []string{"start a", "start b", "stop a"}
		if !reflect.DeepEqual(log, want) {
			t.Fatalf("got %v want %v", log, want)
		}
	})
}
