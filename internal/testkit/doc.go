// Package testkit holds the helpers that tests of many packages share:
// waiting for a condition (WaitFor, WaitWithin), capturing zerolog JSON
// lines (Log, NewLogger), a settable clock (Clock), golden files (Golden)
// and testing a helper that must fail its test (Fatal).
//
// Only tests and test-only packages (transport/transporttest) import it;
// nothing here is part of a node. Only Fatal starts a goroutine, and waits
// for it. WaitFor polls with time.Sleep, so inside a testing/synctest
// bubble it waits on the bubble's fake clock and costs no real time.
package testkit
