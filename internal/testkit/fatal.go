package testkit

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Fatal runs f on a goroutine of its own with a testing.TB whose Fatal,
// Fatalf and FailNow end f (and only f), and returns the message they
// were given ("" if f returned without failing): for the tests of test
// helpers that must fail the test they are given.
func Fatal(t testing.TB, f func(tb testing.TB)) string {
	t.Helper()
	tb := &fatalTB{TB: t}
	var wg sync.WaitGroup
	wg.Go(func() { f(tb) })
	wg.Wait()
	return tb.msg
}

// fatalTB records the first fatal message and ends the calling goroutine.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fatalTB) FailNow() { runtime.Goexit() }
