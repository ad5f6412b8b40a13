package sqlite

// SetQuickCheckAtOpen sets the largest file New checks itself, for tests.
func SetQuickCheckAtOpen(n int64) (restore func()) {
	old := quickCheckAtOpen
	quickCheckAtOpen = n
	return func() { quickCheckAtOpen = old }
}

// SetCheckpointPage sets how many checkpoints a page of ReadCheckpoints
// holds, for tests.
func SetCheckpointPage(n int) (restore func()) {
	old := checkpointPage
	checkpointPage = n
	return func() { checkpointPage = old }
}

// CommitFailed is commitFailed, for the external tests.
var CommitFailed = commitFailed
