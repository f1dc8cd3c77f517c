// Package testkit holds the helpers that tests of many packages share:
// waiting for a condition (WaitFor, WaitWithin), capturing zerolog JSON
// lines (Log, NewLogger), a settable clock (Clock) and golden files
// (Golden).
//
// Only _test.go files import it; nothing here is part of a node. It starts
// no goroutines. WaitFor polls with time.Sleep, so inside a testing/synctest
// bubble it waits on the bubble's fake clock and costs no real time.
package testkit
