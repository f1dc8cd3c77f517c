package farmdeploy

import "errors"

var (
	// ErrClosed is returned after Stop.
	ErrClosed = errors.New("farmdeploy: closed")
	// ErrBadName is returned for a bundle name that is not a plain *.gar file name.
	ErrBadName = errors.New("farmdeploy: bad bundle name")
	// ErrTooLarge is returned when a bundle exceeds MaxBundleSize.
	ErrTooLarge = errors.New("farmdeploy: bundle too large")
	// ErrChecksum is returned when a received bundle's size or SHA-256 does not match.
	ErrChecksum = errors.New("farmdeploy: checksum mismatch")
	// ErrNotMember is returned for a message from a sender that is not a cluster member.
	ErrNotMember = errors.New("farmdeploy: sender is not a cluster member")
	// ErrUnknownTransfer is returned for a chunk or end of a transfer that was never started or has expired.
	ErrUnknownTransfer = errors.New("farmdeploy: unknown transfer")
	// ErrNotSender refuses a deploy, undeploy or manifest from a member
	// not in Config.Senders.
	ErrNotSender = errors.New("farmdeploy: member may not deploy here")
	// ErrNotOwner refuses a bundle (or its undeploy) installed here from
	// another member.
	ErrNotOwner = errors.New("farmdeploy: bundle belongs to another member")
	// ErrBusy refuses a transfer over Config.MaxTransfers or DiskBudget.
	ErrBusy = errors.New("farmdeploy: too many transfers in flight")
)
