package postgres

import "time"

// SetCommitWait sets commitWait for a test and returns what puts it back.
func SetCommitWait(d time.Duration) (restore func()) {
	old := commitWait
	commitWait = d
	return func() { commitWait = old }
}

// SetLockWait sets lockWait for a test and returns what puts it back.
func SetLockWait(d time.Duration) (restore func()) {
	old := lockWait
	lockWait = d
	return func() { lockWait = old }
}
