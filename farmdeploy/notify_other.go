//go:build !linux

package farmdeploy

import "errors"

type notifier struct{}

func newNotifier(string) (*notifier, error) { return nil, errors.New("no file notifications here") }
func (*notifier) run(chan<- string)         {}
func (*notifier) close()                    {}
